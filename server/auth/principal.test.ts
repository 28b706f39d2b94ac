import { describe, expect, it } from 'vitest';
import { credentialFromConnectionParams, credentialFromHeader, sameSecret } from './principal.ts';

const basic = (userinfo: string) => `Basic ${Buffer.from(userinfo).toString('base64')}`;

describe('credentialFromHeader', () => {
  it('reads a Bearer key, and Basic with the key as password (what requests sends for http://:KEY@host)', () => {
    expect(credentialFromHeader('Bearer obs_k')).toBe('obs_k');
    expect(credentialFromHeader('bearer obs_k')).toBe('obs_k');
    expect(credentialFromHeader(basic(':obs_k'))).toBe('obs_k');
    expect(credentialFromHeader(basic('anyone:obs_k'))).toBe('obs_k');
    expect(credentialFromHeader(basic('obs_k:'))).toBe('obs_k');
  });

  it('says undefined without a header and null for one it cannot read', () => {
    expect(credentialFromHeader(undefined)).toBeUndefined();
    expect(credentialFromHeader('')).toBeUndefined();
    expect(credentialFromHeader('Bearer')).toBeNull();
    expect(credentialFromHeader('Digest abc')).toBeNull();
    expect(credentialFromHeader(basic('nocolon'))).toBeNull();
    expect(credentialFromHeader(basic(':'))).toBeNull();
  });
});

describe('credentialFromConnectionParams', () => {
  it('reads apiKey or an authorization header from connection_init', () => {
    expect(credentialFromConnectionParams({ apiKey: 'obs_k' })).toBe('obs_k');
    expect(credentialFromConnectionParams({ authorization: 'Bearer obs_k' })).toBe('obs_k');
    expect(credentialFromConnectionParams({ Authorization: 'Bearer obs_k' })).toBe('obs_k');
    expect(credentialFromConnectionParams(undefined)).toBeUndefined();
    expect(credentialFromConnectionParams({})).toBeUndefined();
    expect(credentialFromConnectionParams({ apiKey: 42 })).toBeNull();
  });
});

describe('sameSecret', () => {
  it('compares secrets of any length', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });
});
