import type { Json, JsonObject } from '../record.ts';
import { encodeNonFinite, toLogInput, toStepInput } from './encode.ts';
import { jsonBytes, messageBytes } from './message-size.ts';
import type { OutboxItem } from './outbox.ts';

/** The mutations a batch is sent with. */
export const REGISTER_MODEL = 'mutation($s: Int!, $i: ModelInput!) { registerModel(sessionId: $s, input: $i) { diagnostics { healthScore } } }';
export const RECORD_STEPS = 'mutation($s: Int!, $steps: [StepInput!]!) { recordSteps(sessionId: $s, steps: $steps) { created } }';
export const PUSH_LOGS = 'mutation($s: Int!, $logs: [LogInput!]!) { pushLogs(sessionId: $s, logs: $logs) { id } }';

/** Steps in one message at most (the server takes up to 1000). */
export const MAX_STEPS = 100;
/** Log lines in one message at most (the server takes up to 1000). */
export const MAX_LINES = 500;
/** The longest log message the server accepts, in characters (its `logs.schemas.ts`): longer ones are cut. */
export const MAX_LOG_CHARS = 64 * 1024;

/** Channels a step may lose to fit, heaviest first at the time; step_index, its times and loss stay. */
const OPTIONAL_CHANNELS = ['profiler', 'layerHealth', 'system', 'memory', 'sustainability', 'carbonEmissions', 'throughput'] as const;

type LogInput = ReturnType<typeof toLogInput>;

/** One message planned from the head of an outbox. */
export interface Batch {
  /** The mutation, or null when nothing is left to send (everything it covered was dropped). */
  query: string | null;
  variables: Record<string, Json>;
  /** Outbox items it covers whole. */
  items: number;
  /** What is left of the next item when the message took only some of its lines. */
  rest: OutboxItem | null;
  /** Steps or lines in the message (1 for a model). */
  units: number;
  /** What was reduced, cut or dropped to fit, to be said once. */
  notes: string[];
  trimmed: { steps: number; logs: number };
  /** Step indices and the number of log lines left out for good. */
  dropped: { steps: number[]; logs: number };
}

const batch = (): Batch => ({ query: null, variables: {}, items: 0, rest: null, units: 0, notes: [], trimmed: { steps: 0, logs: 0 }, dropped: { steps: [], logs: 0 } });

/** Values for one array variable of a message, added while the message stays under `budget` bytes. */
function packer(query: string, variables: Record<string, Json>, key: string, budget: number) {
  const values: Json[] = [];
  let used = messageBytes(query, { ...variables, [key]: [] });
  const room = () => budget - used - (values.length ? 1 : 0);
  return {
    values,
    room,
    add(v: Json): boolean {
      const bytes = jsonBytes(v);
      if (bytes > room()) return false;
      used += bytes + (values.length ? 1 : 0);
      values.push(v);
      return true;
    },
    finish(b: Batch): Batch {
      b.units = values.length;
      if (values.length) (b.query = query), (b.variables = { ...variables, [key]: values });
      return b;
    },
  };
}

/**
 * Plans the next message from the outbox's head run (items of one kind): as many steps or log
 * lines as fit under `budget` bytes (and `maxUnits`). A step or line that cannot fit alone is
 * reduced (a step loses its heaviest optional channels) or cut (a log message, with a marker
 * saying how much), and dropped when even that cannot fit.
 */
export function planBatch(items: OutboxItem[], sessionId: number, opts: { budget: number; maxUnits?: number }): Batch {
  const first = items[0];
  if (!first) return batch();
  if (first.kind === 'model') return planModel(first, sessionId, opts.budget);
  if (first.kind === 'step') return planSteps(items, sessionId, opts.budget, opts.maxUnits ?? MAX_STEPS);
  return planLogs(items, sessionId, opts.budget, opts.maxUnits ?? MAX_LINES);
}

function planModel(item: Extract<OutboxItem, { kind: 'model' }>, sessionId: number, budget: number): Batch {
  const b = batch();
  b.items = 1;
  const { layer_graph: _graph, ...withoutGraph } = item.architecture;
  const candidates: JsonObject[] = [item.architecture, withoutGraph];
  for (const [i, architecture] of candidates.entries()) {
    const variables = { s: sessionId, i: encodeNonFinite({ architecture, hyperparameters: item.hyperparameters }) };
    if (messageBytes(REGISTER_MODEL, variables) > budget) continue;
    if (i > 0) b.notes.push(`the model was sent without its layer graph to fit the ${budget}-byte message limit`);
    return Object.assign(b, { query: REGISTER_MODEL, variables, units: 1 });
  }
  b.notes.push(`the model description does not fit the ${budget}-byte message limit even without its layer graph; it was not sent`);
  return b;
}

function planSteps(items: OutboxItem[], sessionId: number, budget: number, maxUnits: number): Batch {
  const b = batch();
  const pack = packer(RECORD_STEPS, { s: sessionId }, 'steps', budget);
  const omitted = new Set<string>();
  const reducedAt: number[] = [];
  for (const item of items) {
    if (item.kind !== 'step' || pack.values.length >= maxUnits) break;
    const input = toStepInput(item.record);
    if (!pack.add(input)) {
      if (pack.values.length) break;
      const reduced = reduceStep(input, pack.room(), budget);
      if (reduced) {
        pack.add(reduced.input);
        reduced.omitted.forEach((c) => omitted.add(c));
        reducedAt.push(item.record.step_index);
        b.trimmed.steps++;
      } else b.dropped.steps.push(item.record.step_index);
    }
    b.items++;
  }
  if (reducedAt.length) b.notes.push(`${list('step', reducedAt)} sent without ${[...omitted].join(', ')} to fit the ${budget}-byte message limit`);
  if (b.dropped.steps.length) b.notes.push(`${list('step', b.dropped.steps)} dropped: too big for the ${budget}-byte message limit even without optional channels`);
  return pack.finish(b);
}

const snake = (k: string) => k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

/**
 * The step without its heaviest optional channels, one at a time until it fits in `room`
 * bytes; its `observer` bookkeeping says which were left out. Null when it cannot fit.
 */
export function reduceStep(input: Record<string, Json>, room: number, budget: number): { input: Record<string, Json>; omitted: string[] } | null {
  const out = { ...input };
  const omitted: string[] = [];
  const heaviest = OPTIONAL_CHANNELS.filter((k) => out[k] != null).sort((a, z) => jsonBytes(out[z]) - jsonBytes(out[a]));
  const observer = ((input.extra as JsonObject | undefined)?.observer ?? {}) as JsonObject;
  for (const k of heaviest) {
    delete out[k];
    omitted.push(snake(k));
    const candidate = { ...out, extra: { observer: { ...observer, omitted_to_fit: { channels: omitted, message_limit_bytes: budget } } } };
    if (jsonBytes(candidate) <= room) return { input: candidate, omitted: [...omitted] };
  }
  return null;
}

function planLogs(items: OutboxItem[], sessionId: number, budget: number, maxUnits: number): Batch {
  const b = batch();
  const pack = packer(PUSH_LOGS, { s: sessionId }, 'logs', budget);
  let longest = 0;
  outer: for (const item of items) {
    if (item.kind !== 'logs') break;
    for (let j = 0; j < item.lines.length; j++) {
      const line = item.lines[j]!;
      const outcome = pack.values.length >= maxUnits ? 'full' : addLine(pack, toLogInput(line));
      if (outcome === 'full') {
        if (j > 0) b.rest = { kind: 'logs', lines: item.lines.slice(j) };
        break outer;
      }
      if (outcome === 'cut') (b.trimmed.logs++, (longest = Math.max(longest, line.msg.length)));
      if (outcome === 'dropped') b.dropped.logs++;
    }
    b.items++;
  }
  if (b.trimmed.logs) b.notes.push(`${b.trimmed.logs} log line(s) cut to fit the ${budget}-byte message limit (the longest had ${longest} characters)`);
  if (b.dropped.logs) b.notes.push(`${b.dropped.logs} log line(s) dropped: too big for the ${budget}-byte message limit even when cut`);
  return pack.finish(b);
}

/** Adds one line to the message: whole, cut (alone, or past `MAX_LOG_CHARS`), dropped, or not (the message is full). */
function addLine(pack: ReturnType<typeof packer>, line: LogInput): 'sent' | 'cut' | 'dropped' | 'full' {
  const capped = line.msg.length > MAX_LOG_CHARS ? trimLine(line, Infinity) : line;
  if (capped && pack.add(capped)) return capped === line ? 'sent' : 'cut';
  if (pack.values.length) return 'full';
  // Alone and still too big: cut it to the room there is, or leave it out.
  const cut = trimLine(line, pack.room());
  return cut && pack.add(cut) ? 'cut' : 'dropped';
}

const marker = (cut: number, total: number) => `… [${cut} of ${total} characters cut by the observer]`;

/**
 * The line with its message cut so that it takes at most `room` bytes and `MAX_LOG_CHARS`
 * characters, ending in a marker that says how much was cut; null when even the marker alone
 * does not fit.
 */
export function trimLine(line: LogInput, room: number): LogInput | null {
  const msg = line.msg;
  const at = (k: number): LogInput => ({ ...line, msg: msg.slice(0, k) + marker(msg.length - k, msg.length) });
  const fits = (l: LogInput) => l.msg.length <= MAX_LOG_CHARS && jsonBytes(l) <= room;
  if (!fits(at(0))) return null;
  let lo = 0;
  // Every character takes a byte at least: no need to look past the room.
  let hi = Math.min(msg.length - 1, MAX_LOG_CHARS, room);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(at(mid))) lo = mid;
    else hi = mid - 1;
  }
  // Never end on half of a surrogate pair.
  if (lo > 0 && (msg.charCodeAt(lo - 1) & 0xfc00) === 0xd800) lo--;
  return at(lo);
}

/**
 * Leaves out the first step, log line or model of the head for good: what the server refused
 * as too big even alone, at the smallest budget.
 */
export function dropFirst(items: OutboxItem[], budget: number): Batch {
  const b = batch();
  const first = items[0];
  if (!first) return b;
  b.items = 1;
  const why = `the server refused it as too big even alone under a ${budget}-byte limit`;
  if (first.kind === 'model') b.notes.push(`the model was not sent: ${why}`);
  else if (first.kind === 'step') {
    b.dropped.steps.push(first.record.step_index);
    b.notes.push(`step ${first.record.step_index} dropped: ${why}`);
  } else {
    b.dropped.logs = first.lines.length ? 1 : 0;
    if (first.lines.length > 1) (b.items = 0), (b.rest = { kind: 'logs', lines: first.lines.slice(1) });
    b.notes.push(`a log line was dropped: ${why}`);
  }
  return b;
}

const list = (what: string, xs: number[]) => (xs.length === 1 ? `${what} ${xs[0]}` : `${xs.length} ${what}s (${xs[0]}…${xs.at(-1)})`);
