import { architectureRules } from './rules/architecture.ts';
import { CAUSE_WORDS, ROOT_CAUSE, layerHealthRules } from './rules/layer-health.ts';
import { logRules } from './rules/logs.ts';
import { lossRules } from './rules/loss.ts';
import { memoryRules } from './rules/memory.ts';
import { profilerRules } from './rules/profiler.ts';
import { withRemedies } from './rules/remedies.ts';
import { sustainabilityRules } from './rules/sustainability.ts';
import { systemRules } from './rules/system.ts';
import { throughputRules } from './rules/throughput.ts';
import type { DiagnosticContext, Issue, Rule } from './types.ts';

/** Rules run after each recorded step. */
export const STEP_RULES: Rule[] = [
  ...lossRules,
  ...throughputRules,
  ...memoryRules,
  ...profilerRules,
  ...logRules,
  ...systemRules,
  ...sustainabilityRules,
  ...layerHealthRules,
];

/** Rules run once, when a model is registered. */
export const MODEL_RULES: Rule[] = architectureRules;

/** The outcome of one diagnostic run. */
export interface Verdict {
  issues: Issue[];
  /** 0-100: 100 minus 25 per critical, 8 per warning and 2 per info issue. */
  healthScore: number;
  /** Whether the session should pause for a decision. */
  pause: boolean;
  /** Why it pauses, in words, when it does. */
  pauseReason: string | null;
}

/** Identity of an issue across runs: the same rule on the same layer. */
export const issueKey = (i: Pick<Issue, 'code' | 'layerId'>): string => `${i.code}@${i.layerId ?? ''}`;

/**
 * Runs the rules and attaches each issue's remedies (rules/remedies.ts); a rule that throws is
 * reported as an info issue, never breaks the run.
 */
export function runRules(rules: readonly Rule[], ctx: DiagnosticContext): Issue[] {
  const issues: Issue[] = [];
  for (const rule of rules) {
    try {
      issues.push(...rule(ctx));
    } catch (err) {
      issues.push({
        code: 'diagnostics.rule_failed',
        severity: 'info',
        category: 'system',
        title: `Diagnostic rule ${rule.name || 'anonymous'} failed`,
        description: `The rule threw: ${(err as Error).message}`,
        suggestion: 'Report this to the Observer maintainers with the session export.',
        confidence: 1,
      });
    }
  }
  return withRemedies(issues, ctx);
}

const PENALTY = { critical: 25, warning: 8, info: 2 } as const;

/** How many fresh warnings on one layer pause the session (seed: "3+ warnings on the same layer"). */
const LAYER_WARNINGS_TO_PAUSE = 3;

/**
 * Scores the issues and decides whether to pause: on any critical issue, or on three or more
 * warnings about one layer in this run. Warnings are counted as issues, as the seed's clients
 * expect, even when they share a root cause (a dead layer also shows vanishing gradients and
 * near-zero weights): three signs at once are reason enough to ask. The shared cause is named
 * in the reason. Issues the user already resumed past (`acknowledged`) do not pause again
 * while they persist, nor count towards the three.
 */
export function judge(issues: Issue[], acknowledged: ReadonlySet<string> = new Set()): Verdict {
  const healthScore = Math.max(0, 100 - issues.reduce((s, i) => s + PENALTY[i.severity], 0));
  const fresh = issues.filter((i) => !acknowledged.has(issueKey(i)));
  const critical = fresh.find((i) => i.severity === 'critical');
  if (critical) return { issues, healthScore, pause: true, pauseReason: `critical: ${critical.title}` };
  const byLayer = new Map<string, Issue[]>();
  for (const i of fresh) {
    if (i.severity !== 'warning' || !i.layerId) continue;
    const list = byLayer.get(i.layerId) ?? [];
    // One issue per rule and layer: a rule that reported twice is still one warning.
    if (!list.some((w) => w.code === i.code)) list.push(i);
    byLayer.set(i.layerId, list);
  }
  for (const [layer, warnings] of byLayer)
    if (warnings.length >= LAYER_WARNINGS_TO_PAUSE) return { issues, healthScore, pause: true, pauseReason: layerReason(layer, warnings) };
  return { issues, healthScore, pause: false, pauseReason: null };
}

/** `3 warnings on layer d (layer.dead, layer.vanishing_gradients, layer.sparse_weights; one root cause: the layer is inactive)`. */
function layerReason(layer: string, warnings: Issue[]): string {
  const causes = new Set(warnings.map((w) => ROOT_CAUSE[w.code]));
  const [cause] = causes;
  const shared = causes.size === 1 && cause ? `; one root cause: ${CAUSE_WORDS[cause]}` : '';
  return `${warnings.length} warnings on layer ${layer} (${warnings.map((w) => w.code).join(', ')}${shared})`;
}
