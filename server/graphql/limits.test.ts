import { describe, expect, it } from 'vitest';
import { assertDocumentNesting } from './limits.ts';

describe('assertDocumentNesting', () => {
  it('accepts documents within the limit, brackets inside strings, block strings and comments not counted', () => {
    expect(() => assertDocumentNesting('{ a { b { c } } }', 3)).not.toThrow();
    expect(() => assertDocumentNesting(`{ a(x: "${'{'.repeat(50)}") }`, 3)).not.toThrow();
    expect(() => assertDocumentNesting(`{ a(x: """${'['.repeat(50)}""") }`, 3)).not.toThrow();
    expect(() => assertDocumentNesting(`# ${'('.repeat(50)}\n{ a }`, 3)).not.toThrow();
  });

  it('refuses selections, lists and objects nested past the limit before any parsing', () => {
    expect(() => assertDocumentNesting('{ a { b { c { d } } } }', 3)).toThrow(/deeper than 3 levels/);
    expect(() => assertDocumentNesting(`{ a(x: ${'['.repeat(100_000)}) }`, 100)).toThrow(/deeper than 100 levels/);
    expect(() => assertDocumentNesting(`{ a(x: ${'{a: '.repeat(500)}1${'}'.repeat(500)}) }`, 100)).toThrow();
    // An escaped \""" does not end a block string, so what follows the real end is still counted.
    expect(() => assertDocumentNesting(`{ a(x: """\\""" """, y: ${'['.repeat(500)}) }`, 100)).toThrow(/deeper than 100 levels/);
  });
});
