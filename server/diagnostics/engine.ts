import { architectureRules } from './rules/architecture.ts';
import { ROOT_CAUSE, layerHealthRules } from './rules/layer-health.ts';
import { logRules } from './rules/logs.ts';
import { lossRules } from './rules/loss.ts';
import { memoryRules } from './rules/memory.ts';
import { profilerRules } from './rules/profiler.ts';
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

/** Runs the rules; a rule that throws is reported as an info issue, never breaks the run. */
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
  return issues;
}

const PENALTY = { critical: 25, warning: 8, info: 2 } as const;

/**
 * Scores the issues and decides whether to pause: on any critical issue, or on three or
 * more warnings about one layer once warnings of one root cause count as one. Issues the
 * user already resumed past (`acknowledged`) do not pause again while they persist.
 */
export function judge(issues: Issue[], acknowledged: ReadonlySet<string> = new Set()): Verdict {
  const healthScore = Math.max(0, 100 - issues.reduce((s, i) => s + PENALTY[i.severity], 0));
  const fresh = issues.filter((i) => !acknowledged.has(issueKey(i)));
  const critical = fresh.find((i) => i.severity === 'critical');
  if (critical) return { issues, healthScore, pause: true, pauseReason: `critical: ${critical.title}` };
  const causes = new Map<string, Set<string>>();
  for (const i of fresh) {
    if (i.severity !== 'warning' || !i.layerId) continue;
    const set = causes.get(i.layerId) ?? new Set<string>();
    set.add(ROOT_CAUSE[i.code] ?? i.code);
    causes.set(i.layerId, set);
  }
  for (const [layer, set] of causes)
    if (set.size >= 3) return { issues, healthScore, pause: true, pauseReason: `${set.size} warnings on layer ${layer}` };
  return { issues, healthScore, pause: false, pauseReason: null };
}
