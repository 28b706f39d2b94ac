import { describe, expect, it } from 'vitest';
import { contextOf, stepsWithLoss } from './fixtures.ts';
import { manyErrorLogs } from './logs.ts';
import { cpuSaturation, ramSaturation } from './system.ts';

const withSystem = (sys: Record<string, number>[]) => stepsWithLoss(sys.map(() => 1), (i) => ({ system: sys[i]! }));

describe('system and log rules', () => {
  it('warns about a CPU pinned at 99% for three flushes, not about one busy flush', () => {
    expect(cpuSaturation(contextOf(withSystem([{ cpu_percent: 99 }, { cpu_percent: 98 }, { cpu_percent: 99 }])))).toHaveLength(1);
    expect(cpuSaturation(contextOf(withSystem([{ cpu_percent: 40 }, { cpu_percent: 99 }, { cpu_percent: 50 }])))).toEqual([]);
  });

  it('grades RAM use: 92% a warning, 98% critical, 60% nothing', () => {
    expect(ramSaturation(contextOf(withSystem([{ ram_percent: 92 }])))[0]?.severity).toBe('warning');
    expect(ramSaturation(contextOf(withSystem([{ ram_percent: 98 }])))[0]?.severity).toBe('critical');
    expect(ramSaturation(contextOf(withSystem([{ ram_percent: 60 }])))).toEqual([]);
  });

  it('warns about ten error logs in one flush and quotes them', () => {
    const ctx = contextOf(stepsWithLoss([1]), { errorLogs: { sinceLastRun: 12, total: 12, recentMessages: ['disk full'] } });
    expect(manyErrorLogs(ctx)[0]?.description).toContain('disk full');
  });

  it('tolerates a few error logs', () => {
    const ctx = contextOf(stepsWithLoss([1]), { errorLogs: { sinceLastRun: 3, total: 40, recentMessages: [] } });
    expect(manyErrorLogs(ctx)).toEqual([]);
  });
});
