import { describe, expect, it } from 'vitest';
import { PubSub } from './pubsub.ts';

type Topics = { steps: { n: number }; status: { n: number } };
const make = (limit = 3) => new PubSub<Topics>(limit, { steps: 'drop-oldest', status: 'latest' });

describe('PubSub', () => {
  it('delivers events in order to subscribers of the same id only', async () => {
    const ps = make();
    const a = ps.subscribe('steps', 1);
    const b = ps.subscribe('steps', 2);
    ps.publish('steps', 1, { n: 1 });
    ps.publish('steps', 2, { n: 99 });
    ps.publish('steps', 1, { n: 2 });
    expect((await a.next()).value).toEqual({ n: 1, missedBefore: 0 });
    expect((await a.next()).value).toEqual({ n: 2, missedBefore: 0 });
    expect((await b.next()).value).toEqual({ n: 99, missedBefore: 0 });
  });

  it('resolves a waiting subscriber when the event arrives', async () => {
    const ps = make();
    const a = ps.subscribe('steps', 1);
    const pending = a.next();
    ps.publish('steps', 1, { n: 7 });
    expect((await pending).value).toEqual({ n: 7, missedBefore: 0 });
  });

  it('drops the oldest events of a lagging subscriber and says how many', async () => {
    const ps = make(3);
    const a = ps.subscribe('steps', 1);
    for (let n = 1; n <= 10; n++) ps.publish('steps', 1, { n });
    expect((await a.next()).value).toEqual({ n: 8, missedBefore: 7 });
    expect((await a.next()).value).toEqual({ n: 9, missedBefore: 0 });
  });

  it('keeps only the newest status for a lagging subscriber', async () => {
    const ps = make(2);
    const a = ps.subscribe('status', 1);
    for (let n = 1; n <= 5; n++) ps.publish('status', 1, { n });
    expect((await a.next()).value).toEqual({ n: 5, missedBefore: 4 });
  });

  it('unsubscribes when the iterator is returned', async () => {
    const ps = make();
    const a = ps.subscribe('steps', 1);
    expect(ps.subscriberCount('steps', 1)).toBe(1);
    const pending = a.next();
    await a.return!();
    expect(ps.subscriberCount('steps', 1)).toBe(0);
    expect((await pending).done).toBe(true);
  });
});
