import type { DiagnosticContext, Issue, Rule } from '../types.ts';

/** The context as it was `k` flushes ago (the window without its newest `k` steps). */
function contextBefore(ctx: DiagnosticContext, k: number): DiagnosticContext {
  return { ...ctx, steps: ctx.steps.slice(0, ctx.steps.length - k), newSteps: 1, totalSteps: Math.max(0, ctx.totalSteps - k) };
}

/** How an escalation is decided. */
interface EscalationOptions {
  /** The warning must have been raised at each of this many flushes in a row, the newest included. @default 5 */
  flushes?: number;
  /** ...with at least this confidence now. @default 0.9 */
  minConfidence?: number;
}

/**
 * A warning that persists and worsens with high confidence becomes critical (and so pauses
 * the run): the rule is judged again on the window as it was at each of the previous
 * `flushes - 1` flushes (rules are pure functions of the window, so nothing is stored); when
 * it raised the same issue (code and layer) at every one, its confidence now is at least
 * `minConfidence` and not below what it was at the first of them, the issue is escalated. Its
 * description says so, with the numbers.
 */
export function escalating(rule: Rule, opts: EscalationOptions = {}): Rule {
  const flushes = opts.flushes ?? 5;
  const minConfidence = opts.minConfidence ?? 0.9;
  const escalated: Rule = (ctx) =>
    rule(ctx).map((i): Issue => {
      if (i.severity !== 'warning' || i.confidence < minConfidence || ctx.steps.length <= flushes) return i;
      let oldest: Issue | undefined;
      for (let k = 1; k < flushes; k++) {
        const past = rule(contextBefore(ctx, k)).find((p) => p.code === i.code && (p.layerId ?? null) === (i.layerId ?? null));
        if (!past) return i;
        oldest = past;
      }
      if (!oldest || i.confidence < oldest.confidence) return i;
      return {
        ...i,
        severity: 'critical',
        title: `${i.title}, for ${flushes} flushes and not improving`,
        description: `${i.description} Escalated to critical: raised at each of the last ${flushes} flushes (since step ${oldest.epochIndex ?? '?'}), confidence ${oldest.confidence} then and ${i.confidence} now (thresholds: ${flushes} flushes in a row, confidence at least ${minConfidence} and not falling).`,
        metricValue: { ...(i.metricValue ?? {}), escalated_after_flushes: flushes, confidence_then: oldest.confidence },
      };
    });
  Object.defineProperty(escalated, 'name', { value: rule.name });
  return escalated;
}
