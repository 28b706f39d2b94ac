import { describe, expect, it } from 'vitest';
import { runRules, STEP_RULES } from '../engine.ts';
import type { Issue, StepRecord } from '../types.ts';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { explodingGradients, deadLayer } from './layer-health.ts';
import { divergingLoss, oscillatingLoss, stuckLoss } from './loss.ts';
import { nonFiniteLoss } from './non-finite-loss.ts';
import { REMEDY_LIMITS, START_OF_RUN } from '../remedy.ts';
import { lastGoodFlush, proposeRemedies } from './remedies.ts';

const kinds = (issue: Issue | undefined, steps: StepRecord[]) => proposeRemedies(issue!, contextOf(steps)).map((r) => r.kind);

/** Steps with the given losses and, per flush, one layer's gradient norm. */
const withGradients = (losses: number[], grads: number[]) =>
  stepsWithLoss(losses, (i) => ({ layer_health: { layers: { dense: { gradient_norm_mean: grads[i]!, activation_std: 0.3 } } } }));

describe('remedies the rules propose', () => {
  it('rolls back to the foot of the climb and lowers the learning rate 10x for a NaN after a learning-rate spike', () => {
    const steps = stepsWithLoss([2.3, 2.0, 1.7, 1.5, 1.4, 1.35, 4.0, 40, Number.NaN]);
    const issue = nonFiniteLoss(contextOf(steps))[0]!;
    const remedies = proposeRemedies(issue, contextOf(steps));
    expect(remedies.map((r) => r.kind)).toEqual(['rollback', 'scale_learning_rate', 'clip_gradients']);
    expect(remedies[0]).toMatchObject({ kind: 'rollback', toStep: 5 });
    expect(remedies[0]!.reason).toContain('Roll back to step 5');
    expect(remedies[1]).toMatchObject({ kind: 'scale_learning_rate', factor: 0.1 });
    expect(remedies[1]!.reason).toMatch(/^Lower the learning rate 10x: the loss climbed to 40/);
    // Without gradient norms, clipping takes a safe default, and is the least sure of the three.
    expect(remedies[2]).toMatchObject({ kind: 'clip_gradients', maxNorm: 1 });
    expect(remedies[2]!.confidence).toBeLessThan(remedies[1]!.confidence);
    for (const r of remedies) expect(r.confidence).toBeGreaterThanOrEqual(0.5);
  });

  it('rolls back and skips the batch when the loss was finite and steady up to the NaN (one batch broke it)', () => {
    const steps = stepsWithLoss([2.3, 2.0, 1.8, 1.7, 1.68, Number.NaN]);
    steps[5]!.loss!.train_max = Number.NaN;
    steps[5]!.observer = { first_non_finite_step: 42 };
    const issue = nonFiniteLoss(contextOf(steps))[0]!;
    expect(proposeRemedies(issue, contextOf(steps))).toEqual([
      expect.objectContaining({ kind: 'rollback', toStep: 4 }),
      expect.objectContaining({ kind: 'skip_batch', atStep: 5, trainingStep: 42, reason: expect.stringContaining('training step 42') }),
    ]);
  });

  it('lowers the learning rate when the loss climbed within the flush that broke', () => {
    const steps = stepsWithLoss([2.3, 2.0, 1.8, 1.7, 1.68, Number.NaN]);
    steps[5]!.loss!.train_max = 500;
    expect(kinds(nonFiniteLoss(contextOf(steps))[0], steps)).toEqual(['rollback', 'scale_learning_rate', 'clip_gradients']);
  });

  it('lowers the learning rate and clips at twice the usual global norm when the gradients blew up the flush before the NaN', () => {
    const steps = withGradients([2.3, 2.0, 1.8, 1.7, 1.68, 1.66, Number.NaN], [0.4, 0.5, 0.5, 0.45, 0.5, 30, Number.NaN]);
    const remedies = proposeRemedies(nonFiniteLoss(contextOf(steps))[0]!, contextOf(steps));
    expect(remedies.map((r) => r.kind)).toEqual(['rollback', 'scale_learning_rate', 'clip_gradients']);
    // Twice the median global norm up to the last good flush (0.5): one blown-up flush does not move it.
    expect(remedies.find((r) => r.kind === 'clip_gradients')).toMatchObject({ maxNorm: 1 });
    expect(remedies.find((r) => r.kind === 'scale_learning_rate')!.reason).toContain('global gradient norm reached 30');
  });

  it('sets the learning rate back to where it was when the observer says it rose before the NaN (a spike, however steady the loss)', () => {
    const steps = stepsWithLoss([2.3, 2.0, 1.8, 1.7, 1.68, Number.NaN], (i) => ({ observer: { learning_rate: i < 4 ? 0.001 : 0.1 } }));
    const remedies = proposeRemedies(nonFiniteLoss(contextOf(steps))[0]!, contextOf(steps));
    expect(remedies.map((r) => r.kind)).toEqual(['rollback', 'scale_learning_rate', 'clip_gradients']);
    // Back to the last good flush, before the rise; a hundredfold rise is undone, not just cut 10x.
    expect(remedies[0]).toMatchObject({ toStep: 3 });
    expect(remedies[1]).toMatchObject({ factor: 0.01, reason: 'Lower the learning rate 100x: the learning rate rose from 0.001 to 0.1 at step 4, and the loss broke after it: back to 0.001' });
    // A rise of less than 10x is still cut 10x.
    steps.forEach((st, i) => (st.observer = { learning_rate: i < 4 ? 0.01 : 0.03 }));
    expect(proposeRemedies(nonFiniteLoss(contextOf(steps))[0]!, contextOf(steps))[1]).toMatchObject({ factor: 0.1 });
  });

  it('rolls back to the start of the run when the first flush is already NaN (no flush was good)', () => {
    const steps = stepsWithLoss([Number.NaN]);
    const remedies = proposeRemedies(nonFiniteLoss(contextOf(steps))[0]!, contextOf(steps));
    expect(remedies.map((r) => r.kind)).toEqual(['rollback', 'skip_batch']);
    expect(remedies[0]).toMatchObject({ toStep: START_OF_RUN, reason: expect.stringMatching(/^Roll back to the start of the run/) });
  });

  it('proposes no fix when the loss breaks again after a resume (the data keeps breaking it: skipping one batch is no fix)', () => {
    const steps = stepsWithLoss([2.3, 2.0, 1.8, Number.NaN, 1.8, 1.79, Number.NaN]);
    expect(proposeRemedies(nonFiniteLoss(contextOf(steps))[0]!, contextOf(steps))).toEqual([]);
  });

  it('rolls back to before an exploding loss, lowers the learning rate 10x and clips', () => {
    const steps = stepsWithLoss([2.3, 2.1, 1.9, 1.8, 1.75, 30]);
    const issue = divergingLoss(contextOf(steps))[0]!;
    expect(issue.severity).toBe('critical');
    const remedies = proposeRemedies(issue, contextOf(steps));
    expect(remedies.map((r) => r.kind)).toEqual(['rollback', 'scale_learning_rate', 'clip_gradients']);
    expect(remedies[0]).toMatchObject({ toStep: 4 });
    expect(remedies[1]).toMatchObject({ factor: 0.1 });
  });

  it('rolls back to before exploding gradients and clips them (the learning rate stays)', () => {
    const grads = [0.01, 0.01, 0.012, 0.01, 0.011, 0.01, 5, 8, 9];
    const steps = withGradients([1, 1, 1, 1, 1, 1, 1.05, 1.1, 1.2], grads);
    const issue = explodingGradients(contextOf(steps))[0]!;
    expect(issue.code).toBe('layer.exploding_gradients');
    const remedies = proposeRemedies(issue, contextOf(steps));
    expect(remedies.map((r) => r.kind)).toEqual(['rollback', 'clip_gradients']);
    expect(remedies[0]).toMatchObject({ toStep: 5 });
    // Twice the usual global norm of the good flushes (0.01), to two significant digits.
    expect(remedies[1]).toMatchObject({ maxNorm: 0.02 });
  });

  it('stays within what a resume accepts: a clipping norm of a run whose gradients are huge is capped at the limit', () => {
    const grads = [1e6, 1e6, 1.2e6, 1e6, 1.1e6, 1e6, 5e8, 8e8, 9e8];
    const steps = withGradients([1, 1, 1, 1, 1, 1, 1.05, 1.1, 1.2], grads);
    const issue = explodingGradients(contextOf(steps))[0]!;
    const clip = proposeRemedies(issue, contextOf(steps)).find((r) => r.kind === 'clip_gradients');
    expect(clip).toMatchObject({ maxNorm: REMEDY_LIMITS.maxNorm });
  });

  it('raises the learning rate 10x for a loss flat from the start', () => {
    const steps = stepsWithLoss(Array.from({ length: 25 }, () => 2.3));
    const issue = stuckLoss(contextOf(steps))[0]!;
    expect(issue.code).toBe('loss.plateau');
    const remedies = proposeRemedies(issue, contextOf(steps));
    expect(remedies).toEqual([expect.objectContaining({ kind: 'scale_learning_rate', factor: 10 })]);
    expect(remedies[0]!.reason).toMatch(/^Raise the learning rate 10x/);
  });

  it("aims a learning rate far outside its optimizer's usual range at the typical rate, and goes back to the start when it was far too high from the first flush", () => {
    // SGD at 30 from the first flush: the loss fell a little, then went flat at 2.3 (units killed by the first steps).
    const steps = stepsWithLoss([2.4, ...Array.from({ length: 24 }, () => 2.3)], () => ({ observer: { learning_rate: 30, optimizer: 'SGD' } }));
    const issue = stuckLoss(contextOf(steps))[0]!;
    const remedies = proposeRemedies(issue, contextOf(steps));
    expect(remedies.map((r) => r.kind)).toEqual(['rollback', 'scale_learning_rate']);
    expect(remedies[0]).toMatchObject({ toStep: START_OF_RUN });
    // 30 -> 0.1, SGD's typical rate: not 10x higher, as a flat loss alone would say.
    expect(remedies[1]).toMatchObject({ factor: 0.0033 });
    expect(remedies[1]!.reason).toContain("SGD's rate of 30 is 30x above its usual range (0.001-1): to 0.1");
    // Adam at 3e-7 on the same flat loss: up to its typical 1e-3.
    steps.forEach((st) => (st.observer = { learning_rate: 3e-7, optimizer: 'Adam' }));
    expect(proposeRemedies(stuckLoss(contextOf(steps))[0]!, contextOf(steps))).toEqual([expect.objectContaining({ kind: 'scale_learning_rate', factor: 3300 })]);
    // Within the usual range: the 10x guess, less sure than when nobody said the rate.
    steps.forEach((st) => (st.observer = { learning_rate: 0.01, optimizer: 'SGD' }));
    const guess = proposeRemedies(stuckLoss(contextOf(steps))[0]!, contextOf(steps));
    expect(guess).toEqual([expect.objectContaining({ kind: 'scale_learning_rate', factor: 10 })]);
    expect(guess[0]!.confidence).toBeLessThan(0.8);
  });

  it('lowers a rate far above the range to the typical rate when the loss explodes, instead of 10x', () => {
    const steps = stepsWithLoss([2.3, 2.1, 1.9, 1.8, 1.75, 30], () => ({ observer: { learning_rate: 0.5, optimizer: 'Adam' } }));
    const remedies = proposeRemedies(divergingLoss(contextOf(steps))[0]!, contextOf(steps));
    // The loss fell well below its start before it exploded: the last good flush, not the start.
    expect(remedies[0]).toMatchObject({ kind: 'rollback', toStep: 4 });
    expect(remedies[1]).toMatchObject({ kind: 'scale_learning_rate', factor: 0.002 });
  });

  it('lowers the learning rate for an oscillating loss, without a rollback', () => {
    const steps = stepsWithLoss([2.3, ...Array.from({ length: 16 }, (_, i) => (i % 2 ? 2.0 : 1.0))]);
    const issue = oscillatingLoss(contextOf(steps))[0]!;
    expect(proposeRemedies(issue, contextOf(steps))).toEqual([expect.objectContaining({ kind: 'scale_learning_rate', factor: 0.3 })]);
  });

  it('proposes nothing for issues no remedy fixes (a dead layer is the architecture)', () => {
    const steps = stepsWithLoss([1, 1, 1], () => ({ layer_health: { layers: { d: { is_dead: true } } } }));
    const issue = deadLayer(contextOf(steps))[0]!;
    expect(issue.code).toBe('layer.dead');
    expect(proposeRemedies(issue, contextOf(steps))).toEqual([]);
  });

  it('comes attached to the issues of a diagnostic run', () => {
    const steps = stepsWithLoss([2.3, 2.0, 1.7, 1.5, 1.4, 1.35, 4.0, 40, Number.NaN]);
    const issues = runRules(STEP_RULES, contextOf(steps));
    const nan = issues.find((i) => i.code === 'loss.non_finite')!;
    expect(nan.remedies?.map((r) => r.kind)).toEqual(['rollback', 'scale_learning_rate', 'clip_gradients']);
    expect(issues.every((i) => Array.isArray(i.remedies))).toBe(true);
  });
});

describe('the last good flush', () => {
  it('is the newest flush before the fault whose loss is within 1.5x the best so far', () => {
    const steps = stepsWithLoss([2.3, 1.0, 0.9, 0.95, 2.5, 0.92]);
    // Step 4 (2.5) is far above the best; step 5 is good again.
    expect(lastGoodFlush(steps, 6)).toEqual({ step: 5, value: 0.92 });
    // Before step 5 the losses climbed from 0.9 (step 2) through 0.95 to 2.5: back to the foot.
    expect(lastGoodFlush(steps, 5)).toEqual({ step: 2, value: 0.9 });
  });

  it('stops at the foot of a climb into the fault', () => {
    const steps = stepsWithLoss([2.3, 1.0, 0.9, 1.2, 1.4]);
    expect(lastGoodFlush(steps, 5)).toEqual({ step: 2, value: 0.9 });
  });

  it('is undefined when no flush came before the fault', () => {
    expect(lastGoodFlush(stepsWithLoss([Number.NaN]), 0)).toBeUndefined();
  });
});
