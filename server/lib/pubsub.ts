import { createLocalBus, type EventBus } from './event-bus.ts';

/**
 * In-process publish/subscribe with a bounded queue per subscriber.
 *
 * A subscriber that falls behind (a slow browser tab) never makes the server buffer without
 * bound: once its queue holds `limit` events, the topic's coalescing policy decides what it
 * keeps. yoga's default pubsub throws at 1,024 queued events instead, which ends the
 * subscription.
 */

/** What to do when a subscriber's queue is full. */
type Overflow =
  /** Keep only the newest event (for state such as a session's status). */
  | 'latest'
  /** Drop the oldest events; the next delivered event carries how many were dropped. */
  | 'drop-oldest';

/** An event as a subscriber receives it: with the count of events dropped just before it. */
export type Delivered<T> = T & { missedBefore: number };

interface Subscriber<T> {
  push(event: T): void;
  /** Events may have been lost upstream: the next delivered event says so (`missedBefore` at least 1). */
  markGap(): void;
}

/** A bounded async iterator over one topic's events. */
class Subscription<T extends object> implements AsyncIterableIterator<Delivered<T>>, Subscriber<T> {
  private readonly queue: T[] = [];
  private missed = 0;
  private waiting: ((r: IteratorResult<Delivered<T>>) => void) | undefined;
  private done = false;

  constructor(
    private readonly limit: number,
    private readonly overflow: Overflow,
    private readonly onClose: () => void,
  ) {}

  push(event: T): void {
    if (this.done) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: this.deliver(event), done: false });
      return;
    }
    if (this.queue.length >= this.limit) {
      if (this.overflow === 'latest') {
        this.missed += this.queue.length;
        this.queue.length = 0;
      } else {
        this.queue.shift();
        this.missed++;
      }
    }
    this.queue.push(event);
  }

  markGap(): void {
    this.missed = Math.max(this.missed, 1);
  }

  private deliver(event: T): Delivered<T> {
    const delivered = { ...event, missedBefore: this.missed };
    this.missed = 0;
    return delivered;
  }

  next(): Promise<IteratorResult<Delivered<T>>> {
    const event = this.queue.shift();
    if (event !== undefined) return Promise.resolve({ value: this.deliver(event), done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }

  return(): Promise<IteratorResult<Delivered<T>>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.onClose();
    this.waiting?.({ value: undefined, done: true });
    this.waiting = undefined;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Topic name → event type, e.g. `{ sessionStatus: StatusEvent }`. */
type TopicMap = Record<string, object>;

/** A typed pubsub whose topics are further keyed by an id (a session id, say). */
export class PubSub<Topics extends TopicMap> {
  private readonly subscribers = new Map<string, Set<Subscriber<object>>>();

  /**
   * `bus` carries events to the subscribers of every replica (Redis) or of this process only
   * (the default); this pubsub delivers what arrives from it to its own subscribers.
   */
  constructor(
    private readonly limit: number,
    private readonly overflow: { [K in keyof Topics]: Overflow },
    private readonly bus: EventBus = createLocalBus(),
  ) {
    bus.onMessage((m) => this.deliver(m.topic, m.id, m.event));
    bus.onGap(() => {
      for (const subs of this.subscribers.values()) for (const s of subs) s.markGap();
      for (const [topic, resync] of this.resyncs) for (const id of this.idsOf(topic)) resync(id);
    });
  }

  private readonly resyncs = new Map<string, (id: string) => void>();

  /**
   * What to do for each subscribed id of `topic` after events may have been lost upstream
   * (Redis was unreachable): e.g. read the current state from the database and `deliverHere` it.
   */
  onGap<K extends keyof Topics & string>(topic: K, resync: (id: string) => void): void {
    this.resyncs.set(topic, resync);
  }

  /** The ids of `topic` that have subscribers in this process. */
  private idsOf(topic: string): string[] {
    const prefix = `${topic}:`;
    return [...this.subscribers.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /** Delivers an event to this process's subscribers only (a resync read from the database, not news for other replicas). */
  deliverHere<K extends keyof Topics & string>(topic: K, id: number | string, event: Topics[K]): void {
    this.deliver(topic, id, event);
  }

  private static key(topic: string, id: number | string): string {
    return `${topic}:${id}`;
  }

  /** Delivers the event to every current subscriber of `topic` for `id` on every replica, in publish order. */
  publish<K extends keyof Topics & string>(topic: K, id: number | string, event: Topics[K]): void {
    this.bus.publish({ topic, id, event });
  }

  private deliver(topic: string, id: number | string, event: object): void {
    const subs = this.subscribers.get(PubSub.key(topic, id));
    if (subs) for (const s of subs) s.push(event);
  }

  /** How live events travel: `off` (this process only), or Redis `up` / `down`. */
  busState(): 'off' | 'up' | 'down' {
    return this.bus.state();
  }

  /** Subscribes to `topic` for `id`; closing the iterator unsubscribes. */
  subscribe<K extends keyof Topics & string>(topic: K, id: number | string): AsyncIterableIterator<Delivered<Topics[K]>> {
    const key = PubSub.key(topic, id);
    let subs = this.subscribers.get(key);
    if (!subs) this.subscribers.set(key, (subs = new Set()));
    const set = subs;
    const sub: Subscription<Topics[K]> = new Subscription<Topics[K]>(this.limit, this.overflow[topic], () => {
      set.delete(sub as Subscriber<object>);
      if (set.size === 0) this.subscribers.delete(key);
    });
    set.add(sub as Subscriber<object>);
    return sub;
  }

  /** Number of live subscriptions to `topic` for `id` (for tests and health). */
  subscriberCount(topic: keyof Topics & string, id: number | string): number {
    return this.subscribers.get(PubSub.key(topic, id))?.size ?? 0;
  }

  /** Ends every subscription (at shutdown). */
  closeAll(): void {
    for (const subs of [...this.subscribers.values()]) for (const s of [...subs]) (s as Subscription<object>).close();
  }
}

/**
 * An iterator that yields `first`, then everything from `rest`. Unlike an async generator,
 * `return()` reaches `rest` at once, even while a `next()` is waiting, so a client that
 * unsubscribes is removed immediately rather than at the next event.
 */
export function prepend<T>(first: T, rest: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  let sent = false;
  return {
    next() {
      if (!sent) {
        sent = true;
        return Promise.resolve({ value: first, done: false });
      }
      return rest.next();
    },
    return() {
      return rest.return ? rest.return() : Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
