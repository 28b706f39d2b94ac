import { describe, expect, it } from 'vitest';
import { corsHeaders, isAllowedOrigin, isValidHost } from './origin.ts';

describe('isAllowedOrigin', () => {
  it('allows non-browser clients, localhost pages and configured origins', () => {
    expect(isAllowedOrigin(undefined, [])).toBe(true);
    expect(isAllowedOrigin('http://localhost:5173', [])).toBe(true);
    expect(isAllowedOrigin('http://127.0.0.1:8000', [])).toBe(true);
    expect(isAllowedOrigin('https://lab.example.org', ['https://lab.example.org'])).toBe(true);
  });

  it('refuses other websites, including look-alikes', () => {
    expect(isAllowedOrigin('https://evil.example.com', [])).toBe(false);
    expect(isAllowedOrigin('http://localhost.evil.com', [])).toBe(false);
  });
});

describe('corsHeaders', () => {
  it('answers allowed origins with the origin, and a preflight with methods and the asked headers', () => {
    expect(corsHeaders('http://localhost:5173', [])).toEqual({ 'access-control-allow-origin': 'http://localhost:5173', vary: 'Origin' });
    const pre = corsHeaders('https://lab.example.org', ['https://lab.example.org'], { requestHeaders: 'content-type, authorization, bad header' });
    expect(pre['access-control-allow-methods']).toBe('GET, POST, OPTIONS');
    expect(pre['access-control-allow-headers']).toBe('content-type, authorization');
  });

  it('gives other websites and non-browser clients no CORS headers', () => {
    expect(corsHeaders('https://evil.example.com', [])).toEqual({});
    expect(corsHeaders(undefined, [])).toEqual({});
  });
});

describe('isValidHost', () => {
  it('accepts names, addresses, bracketed IPv6 and an empty Host; refuses the malformed', () => {
    for (const ok of ['', 'localhost', 'localhost:8000', '127.0.0.1:80', '[::1]:8000', 'observer.example.org']) expect(isValidHost(ok), ok).toBe(true);
    for (const bad of ['[', 'a b', '[::1', 'host:port', 'a/b', 'x:123456']) expect(isValidHost(bad), bad).toBe(false);
  });
});
