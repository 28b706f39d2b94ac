import type { Rule } from '../types.ts';
import { confidence, countLast, field, fmt, isFiniteNumber, issue, lastStep } from './util.ts';

/**
 * CPU at or above 95% in each of the last 3 flushes. Informational: training on the CPU
 * backend keeps a core busy by design.
 */
export const cpuSaturation: Rule = (ctx) => {
  const saturated = countLast(ctx.steps, 3, (s) => (field(s.system, 'cpu_percent') ?? 0) >= 95);
  if (ctx.steps.length < 3 || saturated < 3) return [];
  const s = lastStep(ctx.steps)!;
  const cpu = field(s.system, 'cpu_percent')!;
  return [
    issue({
      code: 'system.cpu_saturated',
      severity: 'info',
      category: 'system',
      title: 'CPU saturated',
      description: `CPU use at ${fmt(cpu)}% at step ${s.step_index}, at or above 95% for the last 3 flushes: data loading or the CPU backend may be the bottleneck, or the machine is throttling.`,
      suggestion: 'Try: 1) a GPU backend (WebGPU/WebGL), 2) prepare batches ahead of time, 3) close other heavy processes or tabs.',
      confidence: confidence({ margin: cpu / 95, decisive: 100 / 95 }),
      epochIndex: s.step_index,
      metricValue: { cpu_percent: cpu },
    }),
  ];
};

/** System RAM above 90% (warning) or 97% (critical). */
export const ramSaturation: Rule = (ctx) => {
  const s = lastStep(ctx.steps);
  const ram = s ? field(s.system, 'ram_percent') : undefined;
  if (!s || !isFiniteNumber(ram) || ram < 90) return [];
  return [
    issue({
      code: 'system.ram_saturated',
      severity: ram >= 97 ? 'critical' : 'warning',
      category: 'system',
      title: 'System memory almost full',
      description: `System RAM at ${fmt(ram)}% at step ${s.step_index}; thresholds 90% warning, 97% critical. The OS may start swapping or kill the process.`,
      suggestion: 'Try: 1) smaller batches or datasets held in memory, 2) stream data instead of loading it all, 3) close other applications.',
      confidence: confidence({ margin: ram / 90, decisive: 100 / 90 }),
      epochIndex: s.step_index,
      metricValue: { ram_percent: ram },
    }),
  ];
};

export const systemRules: Rule[] = [cpuSaturation, ramSaturation];
