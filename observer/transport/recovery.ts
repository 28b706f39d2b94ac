import type { Connection } from './connection.ts';
import { hasIndexedDb, idbStore, leftovers } from './idb-store.ts';
import { Outbox } from './outbox.ts';
import { Sender } from './sender.ts';

interface Locks {
  request(name: string, opts: { ifAvailable: boolean }, cb: (lock: unknown) => Promise<void> | void): Promise<void>;
  request(name: string, cb: (lock: unknown) => Promise<void> | void): Promise<void>;
}

const locks = (): Locks | undefined => (globalThis as { navigator?: { locks?: Locks } }).navigator?.locks;
const lockName = (key: string) => `observer-outbox:${key}`;

/**
 * Holds a Web Lock on this observer's outbox while it lives, so another tab recovering
 * leftovers leaves it alone. A no-op where Web Locks do not exist (Node).
 * @returns the release
 */
export function holdLock(key: string): Promise<() => void> {
  const l = locks();
  if (!l) return Promise.resolve(() => {});
  return new Promise((granted) => {
    void l.request(lockName(key), () => new Promise<void>((release) => granted(release)));
  });
}

/**
 * Delivers the outboxes that earlier pages left in IndexedDB (a reload, a closed tab): each
 * to its own session, created first if the server never answered that page. An outbox that
 * another live tab holds is left to it.
 */
export async function recoverLeftovers(connection: Connection, limit: number, ownKey: string, warn?: (msg: string) => void): Promise<Sender[]> {
  if (!hasIndexedDb() || !locks()) return [];
  const found = await leftovers().catch(() => []);
  const senders: Sender[] = [];
  for (const { owner, items } of found) {
    if (owner.key === ownKey) continue;
    await new Promise<void>((done) => {
      void locks()!.request(lockName(owner.key), { ifAvailable: true }, async (lock) => {
        if (!lock) return done();
        const store = await idbStore(owner);
        const sender = new Sender(connection, new Outbox(limit, store, items), owner, store, { warn });
        senders.push(sender);
        done();
        if (!items.length) return store.clear();
        connection.onChange((up) => up && sender.pump());
        sender.pump();
        // Keep the lock until this outbox is delivered.
        while (sender.outbox.size) await new Promise((r) => setTimeout(r, 200));
        sender.finish();
      });
    });
  }
  return senders;
}
