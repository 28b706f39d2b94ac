import { describe, expect, it } from 'vitest';
import { ManualClock, sleep, systemClock } from './clock.ts';

describe('ManualClock', () => {
  it('runs timers only when advanced, in time order, and stops at the end of the span', () => {
    const clock = new ManualClock(1000);
    const ran: string[] = [];
    clock.after(300, () => ran.push(`b@${clock.now()}`));
    clock.after(100, () => ran.push(`a@${clock.now()}`));
    clock.after(300, () => ran.push(`c@${clock.now()}`));
    expect(clock.nextIn).toBe(100);
    clock.advance(99);
    expect(ran).toEqual([]);
    clock.advance(201);
    expect(ran).toEqual(['a@1100', 'b@1300', 'c@1300']);
    expect(clock.now()).toBe(1300);
    expect(clock.pending).toBe(0);
    expect(clock.nextIn).toBeNull();
  });

  it('runs a timer that a timer sets when it falls due within the same advance', () => {
    const clock = new ManualClock(0);
    const ran: number[] = [];
    clock.after(250, () => {
      ran.push(clock.now());
      clock.after(500, () => ran.push(clock.now()));
    });
    clock.advance(1000);
    expect(ran).toEqual([250, 750]);
    expect(clock.now()).toBe(1000);
  });

  it('never runs a cancelled timer', () => {
    const clock = new ManualClock(0);
    let ran = false;
    const cancel = clock.after(10, () => (ran = true));
    cancel();
    clock.advance(100);
    expect(ran).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('resolves a sleep once its time has passed', async () => {
    const clock = new ManualClock(0);
    let woke = false;
    const slept = sleep(clock, 39_000).then(() => (woke = true));
    clock.advance(38_999);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await slept;
    expect(woke).toBe(true);
  });
});

describe('systemClock', () => {
  it('reads the real time and cancels a real timer', async () => {
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(50);
    let ran = false;
    systemClock.after(0, () => (ran = true))();
    await new Promise((r) => setTimeout(r, 5));
    expect(ran).toBe(false);
  });
});
