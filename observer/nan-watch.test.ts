import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NanWatch, type LossBuffer } from './nan-watch.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A loss buffer holding the given losses of steps 0.. on the device, counting its reads. */
function buffer(losses: number[]): LossBuffer & { peeks: number; values: number[] } {
  const b = {
    peeks: 0,
    values: losses,
    peek() {
      b.peeks++;
      return b.values.length ? { values: tf.tensor1d(b.values), steps: b.values.map((_, i) => i) } : null;
    },
  };
  return b;
}

const settle = () => new Promise<void>((r) => setImmediate(r));

describe('NanWatch', () => {
  it('fires on a non-finite number loss once, stays quiet while flushes still hold one, and fires again after a finite flush', () => {
    const watch = new NanWatch(buffer([]));
    watch.step(0, 2.3, true);
    expect(watch.due).toBe(false);
    watch.step(1, Number.NaN, true);
    expect(watch.due).toBe(true);
    watch.flushed(true);
    expect(watch.due).toBe(false);
    // The loss stays broken: one early flush was enough.
    watch.step(2, Number.NaN, true);
    expect(watch.due).toBe(false);
    watch.flushed(true);
    watch.step(3, 2.1, true);
    watch.flushed(false);
    watch.step(4, Number.POSITIVE_INFINITY, true);
    expect(watch.due).toBe(true);
  });

  it('never looks when off', () => {
    const losses = buffer([Number.NaN]);
    const watch = new NanWatch(losses);
    watch.step(0, Number.NaN, false);
    watch.step(1, tf.scalar(Number.NaN), false);
    expect(watch.due).toBe(false);
    expect(losses.peeks).toBe(0);
  });

  it('reads the device buffer without waiting, one read out at a time, and names the first broken step', async () => {
    const losses = buffer([2.3, 2.2, Number.NaN]);
    const watch = new NanWatch(losses);
    const loss = tf.scalar(0);
    watch.step(2, loss, true);
    // The read is out: the step did not wait for it, and the next step starts none.
    expect(watch.due).toBe(false);
    watch.step(3, loss, true);
    expect(losses.peeks).toBe(1);
    await settle();
    expect(watch.due).toBe(true);
    loss.dispose();
  });

  it('ignores what a read finds once a flush covered those steps', async () => {
    const losses = buffer([Number.NaN]);
    const watch = new NanWatch(losses);
    const loss = tf.scalar(0);
    watch.step(0, loss, true);
    watch.flushed(false);
    await settle();
    expect(watch.due).toBe(false);
    loss.dispose();
  });
});
