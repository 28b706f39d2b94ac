import { describe, expect, it } from 'vitest';
import { readChosen, readRemedies, remedyList, toChosen } from './remedies.schemas.ts';

describe('remedy validation and storage', () => {
  it('fills the optional fields of a chosen remedy with null', () => {
    const [r] = remedyList.parse([{ kind: 'skip_batch', atStep: 3 }]);
    expect(toChosen(r!)).toEqual({ kind: 'skip_batch', atStep: 3, trainingStep: null, reason: null, confidence: null });
  });

  it('refuses a parameter of another kind, a second remedy of one kind, and more than one of each', () => {
    expect(remedyList.safeParse([{ kind: 'rollback', factor: 0.1 }]).success).toBe(false);
    expect(remedyList.safeParse([{ kind: 'rollback' }, { kind: 'rollback', toStep: 1 }]).success).toBe(false);
    expect(remedyList.safeParse([{ kind: 'rollback' }, { kind: 'skip_batch' }, { kind: 'clip_gradients', maxNorm: 1 }, { kind: 'scale_learning_rate', factor: 2 }]).success).toBe(true);
  });

  it('reads stored remedies back, leaving out entries this version cannot read (a kind added later)', () => {
    const stored = JSON.stringify([
      { kind: 'rollback', toStep: 4, reason: 'before the climb', confidence: 0.9 },
      { kind: 'reset_optimizer', reason: 'a later kind', confidence: 0.7 },
      { kind: 'scale_learning_rate', factor: 0.1, reason: 'too high', confidence: 0.8 },
    ]);
    expect(readRemedies(stored)).toEqual([
      { kind: 'rollback', toStep: 4, reason: 'before the climb', confidence: 0.9 },
      { kind: 'scale_learning_rate', factor: 0.1, reason: 'too high', confidence: 0.8 },
    ]);
    expect(readChosen(stored).map((r) => r.kind)).toEqual(['rollback', 'scale_learning_rate']);
    expect(readRemedies(null)).toEqual([]);
    expect(readRemedies('{"not": "a list"}')).toEqual([]);
  });
});
