import { describe, expect, it } from 'vitest';
import { judge } from '../engine.ts';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { nonFiniteLoss } from './non-finite-loss.ts';

describe('non-finite loss rule', () => {
  it('flags a NaN train loss as critical at the step it appeared', () => {
    const steps = stepsWithLoss([2.3, 2.1, Number.NaN]);
    const [i] = nonFiniteLoss(contextOf(steps));
    expect(i).toMatchObject({ code: 'loss.non_finite', severity: 'critical', epochIndex: 2 });
    expect(i!.description).toContain('NaN');
  });

  it('names the training step the observer saw break, besides the record', () => {
    const steps = stepsWithLoss([2.3, Number.NaN]);
    steps[1]!.loss!.first_non_finite_step = 25;
    expect(nonFiniteLoss(contextOf(steps))[0]!.description).toContain('at step 1 (training step 25)');
  });

  it('flags an infinite validation loss', () => {
    const steps = stepsWithLoss([2.3], () => ({}));
    steps[0]!.loss!.val = { val_loss: Infinity };
    expect(nonFiniteLoss(contextOf(steps))[0]?.metricValue).toEqual({ 'val.val_loss': Infinity });
  });

  it('names the validation loss that went non-finite, as critical, whatever it is called', () => {
    for (const name of ['val_loss', 'valLoss', 'loss', 'val_cross_entropy', 'val_mse', 'mae', 'val_perplexity', 'val_nll']) {
      const steps = stepsWithLoss([2.3, 2.1]);
      steps[1]!.loss!.val = { val_accuracy: 0.4, [name]: Number.NaN };
      const [i] = nonFiniteLoss(contextOf(steps));
      expect(i, name).toMatchObject({ code: 'loss.non_finite', severity: 'critical', title: `Validation loss ${name} is NaN`, metricValue: { [`val.${name}`]: Number.NaN } });
    }
  });

  it('calls a NaN validation metric that is not a loss a warning of its own, naming it', () => {
    const steps = stepsWithLoss([2.3, 2.1]);
    steps[1]!.loss!.val = { val_loss: 1.9, val_accuracy: Number.NaN, val_f1: Number.NaN };
    const issues = nonFiniteLoss(contextOf(steps));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      code: 'loss.non_finite_metric',
      severity: 'warning',
      title: 'Validation metric val_accuracy is NaN',
      epochIndex: 1,
      metricValue: { 'val.val_accuracy': Number.NaN, 'val.val_f1': Number.NaN },
    });
    expect(issues[0]!.description).toContain('val_accuracy, val_f1');
    // A warning without a layer: it does not pause on its own.
    expect(judge(issues).pause).toBe(false);
  });

  it('reports the loss, not the metric, when both went non-finite in the new steps', () => {
    const steps = stepsWithLoss([2.3, 2.1, Number.NaN]);
    steps[1]!.loss!.val = { val_accuracy: Number.NaN };
    steps[2]!.loss!.val = { val_accuracy: Number.NaN };
    const issues = nonFiniteLoss(contextOf(steps, { newSteps: 2 }));
    expect(issues).toEqual([expect.objectContaining({ code: 'loss.non_finite', severity: 'critical', title: 'Loss is NaN', epochIndex: 2 })]);
    expect(judge(issues).pause).toBe(true);
  });

  it('says nothing about finite losses', () => {
    expect(nonFiniteLoss(contextOf(stepsWithLoss([2.3, 1.9, 1.4, 1.1]), { newSteps: 4 }))).toEqual([]);
  });
});
