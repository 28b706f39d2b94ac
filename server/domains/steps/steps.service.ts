import { PLAIN_TEXT, type Db, type RawText } from '../../db/client.ts';
import { DomainError, ErrorCode } from '../../errors.ts';
import type { JsonObject } from '../../lib/extended-json.ts';
import type { Delivered, PubSub } from '../../lib/pubsub.ts';
import { PAGE, pageSize } from '../../lib/pagination.ts';
import type { DiagnosticsService } from '../diagnostics/diagnostics.service.ts';
import type { TrainStep } from '../../generated/prisma/client.ts';
import { readObject, toStepView, type StepChannel } from '../mappers.ts';
import type { SessionRuntime } from '../sessions/session-runtime.ts';
import type { Page, StepSeries, StepView, Topics } from '../views.ts';
import { channelText, type StepRow, StepWriter } from './step-writer.ts';
import { STEP_KEYS, type StepRecordInput } from './steps.schemas.ts';

function extraOf(input: StepRecordInput): JsonObject | null {
  let extra: JsonObject | null = null;
  for (const key of Object.keys(input)) if (!STEP_KEYS.has(key)) (extra ??= {})[key] = (input as JsonObject)[key]!;
  return extra;
}

function toRow(sessionId: number, s: StepRecordInput, createdAt: Date): StepRow {
  return {
    sessionId,
    stepIndex: s.step_index,
    timestamp: s.timestamp ?? null,
    durationSeconds: channelText(s.duration_seconds),
    loss: channelText(s.loss as JsonObject | null | undefined),
    throughput: channelText(s.throughput),
    profiler: channelText(s.profiler),
    memory: channelText(s.memory),
    system: channelText(s.system),
    layerHealth: channelText(s.layer_health),
    sustainability: channelText(s.sustainability),
    carbonEmissions: channelText(s.carbon_emissions),
    extra: channelText(extraOf(s)),
    createdAt,
    seq: 0,
  };
}

function toView(id: number, sessionId: number, s: StepRecordInput, createdAt: Date): StepView {
  return {
    id,
    sessionId,
    stepIndex: s.step_index,
    timestamp: s.timestamp ?? null,
    durationSeconds: s.duration_seconds ?? null,
    loss: (s.loss as JsonObject | null | undefined) ?? null,
    throughput: s.throughput ?? null,
    profiler: s.profiler ?? null,
    memory: s.memory ?? null,
    system: s.system ?? null,
    layerHealth: s.layer_health ?? null,
    sustainability: s.sustainability ?? null,
    carbonEmissions: s.carbon_emissions ?? null,
    extra: extraOf(s),
    createdAt,
  };
}

/** Columns to read: the step's identity and the asked channels (the others read as null). */
function selectOf(channels: readonly StepChannel[]) {
  const select: Record<string, true> = { id: true, sessionId: true, stepIndex: true, timestamp: true, createdAt: true };
  for (const c of channels) select[c] = true;
  return select;
}

/** Result of recording steps: each stored step, and whether this call stored it. */
interface Recorded {
  step: StepView;
  created: boolean;
}

/** Recording and reading training steps. */
export class StepsService {
  private readonly writer: StepWriter;

  constructor(
    private readonly db: Db,
    private readonly runtime: SessionRuntime,
    private readonly pubsub: PubSub<Topics>,
    private readonly diagnostics: DiagnosticsService,
    private readonly text: RawText = PLAIN_TEXT,
    writableCte = false,
  ) {
    this.writer = new StepWriter(db, text, writableCte);
  }

  /**
   * Records one step (seed §6 record). The same step index again is answered with the
   * stored step and not stored twice (`parseStep` checked it).
   * @throws DomainError NOT_FOUND, SESSION_NOT_RUNNING
   */
  async record(sessionId: number, step: StepRecordInput): Promise<Recorded> {
    const [result] = await this.store(sessionId, [step]);
    return result!;
  }

  /** Records a batch (a client's backlog) in one transaction; duplicates are skipped. */
  async recordMany(sessionId: number, steps: StepRecordInput[]): Promise<Recorded[]> {
    return this.store(sessionId, steps);
  }

  private async store(sessionId: number, steps: StepRecordInput[]): Promise<Recorded[]> {
    const createdAt = new Date();
    const outcome = await this.writer.insert(steps.map((s) => toRow(sessionId, s, createdAt)));
    if (!outcome.accepted) {
      const r = await this.runtime.read(sessionId);
      throw new DomainError(ErrorCode.SESSION_NOT_RUNNING, 'Session is not running', { status: r.status });
    }
    const results = outcome.rows;
    const duplicates = results.filter((r) => !r.created).map((r) => r.stepIndex);
    const stored = duplicates.length
      ? new Map(
          (await this.db.trainStep.findMany({ where: { sessionId, stepIndex: { in: duplicates } } })).map((r) => [r.stepIndex, toStepView(r)]),
        )
      : undefined;
    const out: Recorded[] = results.map((r, i) =>
      r.created
        ? { step: toView(r.id!, sessionId, steps[i]!, r.createdAt), created: true }
        : { step: stored!.get(r.stepIndex)!, created: false },
    );
    const fresh = out.filter((r) => r.created).map((r) => r.step);
    for (const s of fresh) this.pubsub.publish('sessionSteps', sessionId, s);
    // This replica's diagnostics judge them without reading them back (when its cache is current).
    this.runtime.offer(sessionId, outcome.firstSeq, outcome.lastSeq, results.flatMap((r, i) => (r.created ? [{ seq: r.seq, step: out[i]!.step }] : [])));
    if (outcome.startedAnalyzing) {
      this.runtime.publishStatus({
        sessionId,
        status: 'analyzing',
        previousStatus: 'running',
        version: outcome.statusVersion,
        stepIndex: fresh.length ? fresh[fresh.length - 1]!.stepIndex : null,
        run: null,
        reason: 'step recorded',
        at: new Date(),
      });
    }
    // Whichever replica stored them, the steps are judged once, in order (see DiagnosticsService).
    if (fresh.length || outcome.startedAnalyzing) this.diagnostics.schedule(sessionId);
    return out;
  }

  /**
   * Steps of a session by ascending index, after the cursor (a step index), or the `last` N.
   * `channels` names the channels the caller will read (all when omitted): a chart of 10,000
   * steps then reads their loss without loading their per-layer health from the database.
   */
  async list(
    sessionId: number,
    opts: { first?: number | null; after?: number | null; last?: number | null },
    channels?: readonly StepChannel[],
  ): Promise<Page<StepView>> {
    await this.runtime.projectOf(sessionId);
    const select = channels ? selectOf(channels) : undefined;
    if (opts.last != null) {
      const take = pageSize(opts.last, PAGE.steps, 'last');
      const rows = await this.db.trainStep.findMany({ where: { sessionId }, orderBy: { stepIndex: 'desc' }, take, select });
      return { items: (rows as TrainStep[]).reverse().map(toStepView), nextCursor: null };
    }
    const take = pageSize(opts.first, PAGE.steps);
    const rows = (await this.db.trainStep.findMany({
      where: { sessionId, ...(opts.after != null ? { stepIndex: { gt: opts.after } } : {}) },
      orderBy: { stepIndex: 'asc' },
      take: take + 1,
      select,
    })) as TrainStep[];
    const items = rows.slice(0, take).map(toStepView);
    return { items, nextCursor: rows.length > take ? items[items.length - 1]!.stepIndex : null };
  }

  /**
   * The chart quantities of the steps after `after` (a step index), at most `first` of them
   * (100,000 by default and at most), one array per quantity in step order: what a dashboard
   * draws for a long session. One raw read of four columns: for 10,000 steps about a quarter of
   * the time of reading them as step objects.
   */
  async series(sessionId: number, after: number | null = null, first?: number | null): Promise<StepSeries> {
    await this.runtime.projectOf(sessionId);
    const take = pageSize(first, PAGE.series);
    const rows = await this.db.$queryRaw<{ stepIndex: number | bigint; loss: string | null; throughput: string | null; memory: string | null }[]>`
      SELECT "stepIndex", "loss", "throughput", "memory" FROM "TrainStep"
      WHERE "sessionId" = ${sessionId} AND "stepIndex" > ${after ?? -1} ORDER BY "stepIndex" LIMIT ${take}`;
    const n = rows.length;
    const out: StepSeries = { stepIndex: new Array(n), trainLoss: new Array(n), val: {}, samplesPerSecond: new Array(n), numTensors: new Array(n), numBatches: new Array(n) };
    const num = (o: JsonObject | null, k: string) => (typeof o?.[k] === 'number' ? (o[k] as number) : null);
    rows.forEach((r, i) => {
      out.stepIndex[i] = Number(r.stepIndex);
      // A raw read: strings come back as stored (escaped on PostgreSQL).
      const loss = readObject(r.loss === null ? null : this.text.decode(r.loss));
      out.trainLoss[i] = num(loss, 'train_mean');
      out.numBatches[i] = num(loss, 'num_batches');
      const val = loss?.val;
      if (val && typeof val === 'object' && !Array.isArray(val)) {
        for (const [k, v] of Object.entries(val)) {
          if (typeof v !== 'number') continue;
          (out.val[k] ??= new Array<number | null>(n).fill(null))[i] = v;
        }
      }
      out.samplesPerSecond[i] = num(readObject(r.throughput === null ? null : this.text.decode(r.throughput)), 'samples_per_second');
      out.numTensors[i] = num(readObject(r.memory === null ? null : this.text.decode(r.memory)), 'num_tensors');
    });
    return out;
  }

  async count(sessionId: number): Promise<number> {
    return this.db.trainStep.count({ where: { sessionId } });
  }

  /** New steps of a session as they are stored. @throws DomainError NOT_FOUND */
  async watch(sessionId: number): Promise<AsyncIterableIterator<Delivered<StepView>>> {
    await this.runtime.projectOf(sessionId);
    return this.pubsub.subscribe('sessionSteps', sessionId);
  }
}
