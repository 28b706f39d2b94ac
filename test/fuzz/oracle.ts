import { inspect } from 'node:util';
import { expect } from 'vitest';
import { decodeNonFinite, parseExtendedJson } from '../../server/lib/extended-json.ts';
import type { Json } from './values.ts';

/**
 * What "reads back the same" means: equal JSON values, where -0 and 0 are one number (JSON
 * text cannot tell them apart once written as `0`) and NaN equals NaN.
 */
export function canon(v: unknown): unknown {
  if (typeof v === 'number') return Object.is(v, -0) ? 0 : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(canon);
  const out: Record<string, unknown> = {};
  // defineProperty: a "__proto__" key stays a key.
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: canon((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
  return out;
}

/** Asserts equal values, printing both in full when they differ (vitest would abbreviate them). */
function same(actual: unknown, expected: unknown, what: string): void {
  try {
    expect(actual).toEqual(expected);
  } catch {
    throw new Error(`${what} reads back differently:\n  got      ${inspect(actual, { depth: null })}\n  expected ${inspect(expected, { depth: null })}`);
  }
}

/** GraphQL's JSON scalar carries non-finite numbers as the strings "NaN", "Infinity", "-Infinity" (documented). */
const viaGraphQL = (v: unknown) => canon(decodeNonFinite(v));

async function rest(base: string, path: string): Promise<Record<string, any>> {
  const res = await fetch(base + path);
  const text = await res.text();
  expect(res.status, `GET ${path}: ${text.slice(0, 300)}`).toBe(200);
  return parseExtendedJson(text, Infinity) as Record<string, any>;
}

async function graphql(base: string, query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: Record<string, any>; errors?: unknown[] };
  expect(body.errors, `${query}: ${JSON.stringify(body.errors)?.slice(0, 300)}`).toBeUndefined();
  return body.data!;
}

const isObject = (v: unknown): v is Record<string, Json> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A project created with `name` reads back with that exact name over REST and GraphQL. */
export async function checkProject(base: string, id: number, name: string): Promise<void> {
  expect((await rest(base, `/projects/${id}`)).name).toBe(name);
  expect((await graphql(base, 'query($id: Int!) { project(id: $id) { name } }', { id })).project.name).toBe(name);
}

const SESSION_FIELDS: Record<string, string> = {
  run_id: 'runId',
  run_name: 'runName',
  device: 'device',
  cuda_available: 'cudaAvailable',
  pytorch_version: 'pytorchVersion',
  config: 'config',
};
const SESSION_IGNORED = new Set(['status', 'project_id', 'metadata', 'started_at']);

/** A session created over REST from the seed's metadata: its fields, and every other key kept in `metadata`. */
export async function checkRestSession(base: string, id: number, sent: Record<string, Json>): Promise<void> {
  const metadata: Record<string, Json> = isObject(sent.metadata) ? { ...sent.metadata } : {};
  for (const [k, v] of Object.entries(sent)) if (!(k in SESSION_FIELDS) && !SESSION_IGNORED.has(k)) metadata[k] = v;
  const expected = { metadata: Object.keys(metadata).length ? metadata : null, config: sent.config ?? null } as Record<string, unknown>;
  for (const k of ['run_name', 'device', 'cuda_available', 'pytorch_version']) expected[k] = sent[k] ?? null;
  if (sent.run_id != null) expected.run_id = sent.run_id;

  const r = await rest(base, `/sessions/${id}`);
  for (const [k, v] of Object.entries(expected)) same(canon(r[k]), canon(v), `REST session.${k}`);
  const g = (await graphql(base, 'query($id: Int!) { session(id: $id) { runId runName device cudaAvailable pytorchVersion config metadata } }', { id })).session;
  for (const [k, v] of Object.entries(expected)) same(viaGraphQL(g[SESSION_FIELDS[k] ?? k]), viaGraphQL(v), `GraphQL session.${k}`);
}

/**
 * A model registered with `sent` reads back the same. `viaGraphQLInput`: it was sent through
 * GraphQL, whose JSON scalar read the strings "NaN"/"Infinity" as numbers.
 */
export async function checkModel(base: string, sessionId: number, sent: Record<string, Json>, viaGraphQLInput = false): Promise<void> {
  if (viaGraphQLInput) sent = decodeNonFinite(sent) as Record<string, Json>;
  const r = await rest(base, `/sessions/${sessionId}/model`);
  const g = (await graphql(base, 'query($id: Int!) { session(id: $id) { model { architecture hyperparameters } } }', { id: sessionId })).session.model;
  for (const k of ['architecture', 'hyperparameters']) {
    same(canon(r[k]), canon(sent[k] ?? null), `REST model.${k}`);
    same(viaGraphQL(g[k]), viaGraphQL(sent[k] ?? null), `GraphQL model.${k}`);
  }
}

const STEP_CHANNELS = ['timestamp', 'duration_seconds', 'loss', 'throughput', 'profiler', 'memory', 'system', 'layer_health', 'sustainability', 'carbon_emissions'];

/** A step stored from the seed's record `sent` reads back the same, every extra key included. */
export async function checkStep(base: string, sessionId: number, sent: Record<string, Json>, viaGraphQLInput = false): Promise<void> {
  // Through GraphQL every channel is a JSON or Metric value (decoded), but the timestamp is a String.
  if (viaGraphQLInput) sent = { ...(decodeNonFinite(sent) as Record<string, Json>), ...('timestamp' in sent ? { timestamp: sent.timestamp! } : {}) };
  const index = sent.step_index as number;
  const expected: Record<string, Json> = { ...sent };
  for (const k of STEP_CHANNELS) expected[k] = sent[k] ?? null;
  const page = await rest(base, `/sessions/${sessionId}/steps?after=${index - 1}&limit=1`);
  const r = page.items[0] as Record<string, Json>;
  expect(r?.step_index, 'the step is stored').toBe(index);
  const { id: _id, session_id: _s, created_at: _c, ...record } = r;
  same(canon(record), canon(expected), 'REST step record');
  const g = (await graphql(base, 'query($id: Int!, $after: Int!) { session(id: $id) { steps(after: $after, first: 1) { record } } }', { id: sessionId, after: index - 1 }))
    .session.steps[0].record;
  same(viaGraphQL(g), viaGraphQL(expected), 'GraphQL step record');
}

/** A log line stored from `sent` reads back the same (its level upper-cased, defaults filled). */
export async function checkLog(base: string, sessionId: number, logId: number, sent: Record<string, Json>): Promise<void> {
  const expected = {
    ts: sent.ts ?? null,
    level: typeof sent.level === 'string' ? sent.level.toUpperCase() : 'INFO',
    msg: sent.msg,
    module: sent.module ?? null,
    lineno: sent.lineno ?? null,
    kind: sent.kind ?? 'console',
  };
  const r = (await rest(base, `/sessions/${sessionId}/logs?after=${logId - 1}&limit=1`)).items[0];
  expect(r.id).toBe(logId);
  for (const [k, v] of Object.entries(expected)) same(canon(r[k]), canon(v), `REST log.${k}`);
  const g = (await graphql(base, 'query($id: Int!, $after: Int!) { session(id: $id) { logs(after: $after, first: 1) { ts level msg module lineno kind } } }', { id: sessionId, after: logId - 1 }))
    .session.logs[0];
  for (const [k, v] of Object.entries(expected)) same(canon(g[k]), canon(v), `GraphQL log.${k}`);
}
