import type { Json } from '../record.ts';
import type { OutboxItem, OutboxStore } from './outbox.ts';

/** Who an outbox belongs to: enough to create its session later, or the session it has. */
export interface OutboxOwner {
  key: string;
  projectId: number;
  sessionInput: Json;
  sessionId: number | null;
}

const DB = 'observer-outbox';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

let opening: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  opening ??= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore('owners', { keyPath: 'key' });
      r.result.createObjectStore('items', { keyPath: ['owner', 'seq'] });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return opening;
}

/** Whether this runtime has IndexedDB (browsers; not Node). */
export const hasIndexedDb = (): boolean => typeof indexedDB !== 'undefined';

/**
 * An IndexedDB store for one owner. Writes are issued in order and not awaited by the
 * training loop; IndexedDB runs them in that order.
 */
export async function idbStore(owner: OutboxOwner): Promise<OutboxStore> {
  const db = await open();
  await request(db.transaction('owners', 'readwrite').objectStore('owners').put(owner));
  const tx = (stores: string[]) => db.transaction(stores, 'readwrite');
  return {
    put(seq, item) {
      // Structured clone keeps NaN and Infinity as they are.
      tx(['items']).objectStore('items').put({ owner: owner.key, seq, item });
    },
    delete(seqs) {
      const store = tx(['items']).objectStore('items');
      for (const seq of seqs) store.delete([owner.key, seq]);
    },
    setSession(sessionId) {
      owner.sessionId = sessionId;
      tx(['owners']).objectStore('owners').put(owner);
    },
    clear() {
      const t = tx(['owners', 'items']);
      t.objectStore('owners').delete(owner.key);
      t.objectStore('items').delete(IDBKeyRange.bound([owner.key, -Infinity], [owner.key, Infinity]));
    },
  };
}

/** Outboxes left by earlier pages: their owners and items in order. */
export async function leftovers(): Promise<{ owner: OutboxOwner; items: { seq: number; item: OutboxItem }[] }[]> {
  const db = await open();
  const t = db.transaction(['owners', 'items'], 'readonly');
  const owners = (await request(t.objectStore('owners').getAll())) as OutboxOwner[];
  const items = (await request(t.objectStore('items').getAll())) as { owner: string; seq: number; item: OutboxItem }[];
  return owners.map((owner) => ({
    owner,
    items: items
      .filter((i) => i.owner === owner.key)
      .sort((a, b) => a.seq - b.seq)
      .map((i) => ({ seq: i.seq, item: i.item })),
  }));
}
