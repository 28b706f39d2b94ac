import { describe, expect, it } from 'vitest';
import { topRemedies as proposedFix } from '@observer/tfjs';
import { fixLabel } from './PendingDialog.tsx';

describe('the pending prompt\'s fix', () => {
  it('names a fix by its remedies in the order they apply', () => {
    expect(fixLabel([{ summary: 'roll back to step 5' }, { summary: 'lower the learning rate 100x' }])).toBe('Roll back to step 5 and lower the learning rate 100x');
    expect(fixLabel([{ summary: 'roll back to step 5' }, { summary: 'lower the learning rate 10x' }, { summary: 'clip gradients at norm 2' }])).toBe('Roll back to step 5, lower the learning rate 10x and clip gradients at norm 2');
    expect(fixLabel([{ summary: 'skip the batch' }])).toBe('Skip the batch');
  });

  it('is the fix of the most severe issue that proposes one, then the most confident', () => {
    const issue = (severity: 'critical' | 'warning' | 'info', confidence: number, remedies: string[]) => ({ severity, confidence, remedies: remedies.map((summary) => ({ summary })) });
    const issues = [issue('warning', 1, ['clip']), issue('critical', 0.7, ['roll back', 'lower']), issue('critical', 0.9, []), issue('critical', 0.8, ['raise'])];
    expect(proposedFix(issues).map((r) => r.summary)).toEqual(['raise']);
    expect(proposedFix([issue('warning', 0.6, [])])).toEqual([]);
  });
});
