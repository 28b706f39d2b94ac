import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import { notFound } from '../../errors.ts';
import type { PubSub } from '../../lib/pubsub.ts';
import { sameSecret, type Principal, type Scope } from '../../auth/principal.ts';
import type { Topics } from '../views.ts';
import type { CreateKeyInput } from './keys.schemas.ts';

/** An API key as lists show it: never the secret, never its hash. */
export interface ApiKeyView {
  id: number;
  projectId: number | null;
  scope: Scope;
  name: string | null;
  /** The secret's public start, `obs_<8 characters>`. */
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A secret: `obs_<8 characters>_<32 random bytes in base64url>` (56 characters). */
const SECRET = /^obs_[a-z0-9]{8}_[A-Za-z0-9_-]{43}$/;

/** SHA-256 hex: the secret is 32 random bytes, so a fast hash is as safe as a slow one. */
const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

const toView = (r: { id: number; projectId: number | null; scope: string; name: string | null; prefix: string; createdAt: Date; revokedAt: Date | null }): ApiKeyView => ({
  ...r,
  scope: r.scope === 'write' ? 'write' : 'read',
});

export interface KeyOptions {
  /** `OBSERVER_ADMIN_TOKEN`: creates projects and keys. */
  adminToken: string | undefined;
  /** How long a key lookup is trusted without asking the database again (a revocation event clears it at once). @default 5000 */
  cacheMs?: number;
  now?: () => number;
}

/**
 * API keys: created (the secret returned once), listed, revoked, and turned into a
 * principal from a secret. Lookups are cached briefly; a revocation is published to every
 * replica, which forgets the key and closes its WebSockets (`onRevoked`).
 */
export class KeysService {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly revokedHandlers: ((keyId: number) => void)[] = [];
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    private readonly pubsub: PubSub<Topics>,
    private readonly opts: KeyOptions,
  ) {
    this.cacheMs = opts.cacheMs ?? 5000;
    this.now = opts.now ?? Date.now;
    const events = pubsub.subscribe('apiKeyRevoked', 0);
    void (async () => {
      for await (const { keyId } of events) {
        this.cache.clear();
        for (const h of this.revokedHandlers) h(keyId);
      }
    })();
    // Revocations may have been lost while Redis was away: trust no cached lookup.
    pubsub.onGap('apiKeyRevoked', () => this.cache.clear());
  }

  /** Called on every replica when a key is revoked. */
  onRevoked(handler: (keyId: number) => void): void {
    this.revokedHandlers.push(handler);
  }

  /**
   * Creates a key; the secret is in the answer only. @throws DomainError VALIDATION_FAILED,
   * NOT_FOUND (project)
   */
  async create(k: CreateKeyInput): Promise<{ key: ApiKeyView; secret: string }> {
    if (k.projectId !== null && !(await this.db.project.findUnique({ where: { id: k.projectId }, select: { id: true } }))) throw notFound('Project', k.projectId);
    const prefix = `obs_${randomBytes(6).toString('hex').slice(0, 8)}`;
    const secret = `${prefix}_${randomBytes(32).toString('base64url')}`;
    const row = await this.db.apiKey.create({ data: { projectId: k.projectId, scope: k.scope, name: k.name ?? null, prefix, hash: hashSecret(secret) } });
    return { key: toView(row), secret };
  }

  /** Keys oldest first, revoked ones included (with `revokedAt`). */
  async list(): Promise<ApiKeyView[]> {
    return (await this.db.apiKey.findMany({ orderBy: { id: 'asc' } })).map(toView);
  }

  /** Revokes a key at once, on every replica. Revoking twice keeps the first date. @throws DomainError NOT_FOUND */
  async revoke(id: number): Promise<ApiKeyView> {
    const row = await this.db.apiKey.findUnique({ where: { id } });
    if (!row) throw notFound('ApiKey', id);
    const revoked = row.revokedAt ? row : await this.db.apiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    this.cache.clear();
    this.pubsub.publish('apiKeyRevoked', 0, { keyId: id });
    return toView(revoked);
  }

  /** Of these key ids, those revoked (or gone): a sweep catches revocations whose event was lost (no Redis, the CLI). */
  async revokedAmong(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const live = await this.db.apiKey.findMany({ where: { id: { in: ids }, revokedAt: null }, select: { id: true } });
    const alive = new Set(live.map((k) => k.id));
    return ids.filter((id) => !alive.has(id));
  }

  /**
   * Who a secret belongs to: the admin token, a live key, or `invalid` (unknown, malformed,
   * revoked). `undefined` (no credential) is `anonymous`; `null` (an unreadable header) is invalid.
   */
  async authenticate(secret: string | null | undefined): Promise<Principal> {
    if (secret === undefined) return { kind: 'anonymous' };
    if (secret === null) return { kind: 'invalid', reason: 'The Authorization header is not "Bearer <key>" or Basic with the key as password' };
    if (this.opts.adminToken && sameSecret(secret, this.opts.adminToken)) return { kind: 'admin', keyId: null };
    if (!SECRET.test(secret)) return { kind: 'invalid', reason: 'Malformed API key' };
    const hash = hashSecret(secret);
    const t = this.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > t) return cached.principal;
    const row = await this.db.apiKey.findUnique({ where: { hash } });
    const principal: Principal =
      !row ? { kind: 'invalid', reason: 'Unknown API key' }
      : row.revokedAt ? { kind: 'invalid', reason: 'This API key was revoked' }
      : row.projectId === null && row.scope === 'write' ? { kind: 'admin', keyId: row.id }
      : { kind: 'key', keyId: row.id, projectId: row.projectId, scope: row.scope === 'write' ? 'write' : 'read' };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { principal, until: t + this.cacheMs });
    return principal;
  }
}
