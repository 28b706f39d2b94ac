import { randomUUID } from 'node:crypto';
import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { CustomEvent } from '@whatwg-node/events';
import { Redis } from 'ioredis';
import { parseExtendedJson, stringifyExtendedJson } from './extended-json.ts';

/** An event on its way between replicas: its topic, the key within it (a session id) and the event. */
export interface BusMessage {
  topic: string;
  id: number | string;
  event: object;
}

/** Where live events travel: within this process, or through Redis to every replica. */
export interface EventBus {
  /** Sends an event to every subscriber of every replica, this one included. */
  publish(message: BusMessage): void;
  /** Receives every event, from any replica, in each replica's publish order. */
  onMessage(handler: (message: BusMessage) => void): void;
  /** Called when the bus may have lost events (Redis was unreachable): subscribers should resync. */
  onGap(handler: () => void): void;
  /** `off` without Redis; `up` or `down` with it. */
  state(): 'off' | 'up' | 'down';
  close(): Promise<void>;
}

/** The default: events stay in this process, delivered at once. */
export function createLocalBus(): EventBus {
  let handler: (m: BusMessage) => void = () => {};
  return {
    publish: (m) => handler(m),
    onMessage: (h) => void (handler = h),
    onGap: () => {},
    state: () => 'off',
    close: async () => {},
  };
}

/** Events between replicas in Redis's wire format: extended JSON, so NaN stays NaN (Dates travel as ISO strings). */
const serializer = { stringify: (v: unknown) => stringifyExtendedJson(v), parse: (s: string) => parseExtendedJson(s, Infinity) };

/**
 * Live events through Redis pub/sub (yoga's redis-event-target over ioredis), so subscribers
 * on any replica receive what any replica publishes. One channel per deployment
 * (`<prefix>events`). Redis is never the only copy of anything: while it is unreachable,
 * events are still delivered to this replica's own subscribers, publishing never throws or
 * leaves an unhandled rejection, and once Redis is back `onGap` tells subscribers to resync
 * from the database.
 */
export function createRedisBus(url: string, prefix: string, reportError: (err: unknown, context: string) => void): EventBus {
  const channel = `${prefix}events`;
  const self = randomUUID();
  // No offline queue on the publisher: while Redis is down a publish fails at once (and is delivered locally).
  const pub = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(1000, 50 * n) });
  const sub = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(1000, 50 * n) });
  let handler: (m: BusMessage) => void = () => {};
  let gapHandler: () => void = () => {};
  let lostWhileDown = false;
  let warned = false;
  const warn = (err: unknown) => {
    if (warned) return;
    warned = true;
    reportError(err, `Redis at ${url.replace(/\/\/[^@]*@/, '//***@')} (live events between replicas)`);
  };
  pub.on('error', warn);
  sub.on('error', warn);
  sub.on('ready', () => {
    warned = false;
    if (!lostWhileDown) return;
    lostWhileDown = false;
    gapHandler();
    // The other replicas' subscribers missed what this one published meanwhile: tell them too.
    if (pub.status === 'ready') target.dispatchEvent(new CustomEvent(channel, { detail: { gap: true, from: self } }));
  });
  sub.on('close', () => (lostWhileDown = true));

  const target = createRedisEventTarget({
    publishClient: {
      publish: (ch: string, msg: string) =>
        pub.publish(ch, msg).catch((err: unknown) => {
          lostWhileDown = true;
          warn(err);
          return 0;
        }),
    } as unknown as Redis,
    subscribeClient: {
      on: (event: string, listener: (...args: unknown[]) => void) => sub.on(event, listener),
      subscribe: (ch: string) => sub.subscribe(ch).catch(warn),
      unsubscribe: (ch: string) => sub.unsubscribe(ch).catch(warn),
    } as unknown as Redis,
    serializer,
  });
  target.addEventListener(channel, (e: Event) => {
    const { from, gap, ...message } = (e as CustomEvent<BusMessage & { from: string; gap?: true }>).detail;
    // Our own events were delivered when published (see below): take only the other replicas'.
    if (from === self) return;
    if (gap) gapHandler();
    else handler(message);
  });

  return {
    publish(message) {
      // Delivered here at once, whatever Redis does: this replica's subscribers never wait on it.
      handler(message);
      if (pub.status !== 'ready') {
        lostWhileDown = true;
        return;
      }
      target.dispatchEvent(new CustomEvent(channel, { detail: { ...message, from: self } }));
    },
    onMessage: (h) => void (handler = h),
    onGap: (h) => void (gapHandler = h),
    state: () => (pub.status === 'ready' && sub.status === 'ready' ? 'up' : 'down'),
    async close() {
      pub.disconnect();
      sub.disconnect();
    },
  };
}

/** Resolves once the bus's subscription is live in Redis (tests: events published before would be missed). */
export async function waitForRedisSubscription(url: string, prefix: string, subscribers: number, timeoutMs = 5000): Promise<void> {
  const probe = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [, n] = (await probe.pubsub('NUMSUB', `${prefix}events`)) as [string, number];
      if (Number(n) >= subscribers) return;
      if (Date.now() > deadline) throw new Error(`only ${n} of ${subscribers} replicas subscribed to ${prefix}events`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    probe.disconnect();
  }
}
