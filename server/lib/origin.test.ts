import { describe, expect, it } from 'vitest';
import { isAllowedOrigin } from './origin.ts';

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
