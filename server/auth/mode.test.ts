import { describe, expect, it } from 'vitest';
import { isLoopbackAddress, isLoopbackHostHeader, resolveAuthMode } from './mode.ts';

describe('resolveAuthMode', () => {
  it('is off without a key on a loopback address when AUTH is unset', () => {
    expect(resolveAuthMode(undefined, '127.0.0.1')).toEqual({ required: false, warning: undefined });
    expect(resolveAuthMode(undefined, '::1').required).toBe(false);
  });

  it('refuses a public address with AUTH unset, saying how to turn auth on or accept the risk', () => {
    expect(() => resolveAuthMode(undefined, '0.0.0.0')).toThrow(/AUTH=required.*AUTH=off/s);
  });

  it('warns when AUTH=off on a public address, and requires keys when AUTH=required', () => {
    expect(resolveAuthMode('off', '0.0.0.0').warning).toMatch(/AUTH=off on 0\.0\.0\.0/);
    expect(resolveAuthMode('required', '127.0.0.1').required).toBe(true);
  });
});

describe('loopback names', () => {
  it('knows loopback addresses and Host headers, and refuses other names', () => {
    expect(['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]'].every(isLoopbackAddress)).toBe(true);
    expect(isLoopbackAddress('0.0.0.0')).toBe(false);
    expect(isLoopbackHostHeader('localhost:8000', [])).toBe(true);
    expect(isLoopbackHostHeader('[::1]:8000', [])).toBe(true);
    expect(isLoopbackHostHeader('app.localhost', [])).toBe(true);
    expect(isLoopbackHostHeader(undefined, [])).toBe(true);
    expect(isLoopbackHostHeader('evil.example:8000', [])).toBe(false);
    expect(isLoopbackHostHeader('box.lan:8000', ['box.lan'])).toBe(true);
  });
});
