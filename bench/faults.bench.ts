/**
 * `npm run bench:faults [-- --quick] [-- --seeds N] [-- --only <name part>] [-- --assert]
 * [-- --split tuning|held-out|all|none] [-- --gen-runs N]`: trains small real tfjs models with
 * planted faults (each with a healthy twin for the oracle) and healthy controls, streams them
 * through the real Observer to the real server, and reports how the diagnostics did:
 * detection, right category and layer, steps from onset to the first correct issue, false
 * alarms on controls, pauses. Then the generated recipes (bench/faults/generated.ts) of the
 * chosen split(s): each fault family on N drawn recipes, each with its observed healthy twin.
 * `--only gen` runs the generated ones alone. Then the recovery section (issue 15): each fault
 * run that paused and was ruined is trained again, resumed at each pause with the top issue's
 * remedies, and judged against its twin and the same run resumed without a fix (generated runs
 * always; the hand-written scenarios in a full run; `--no-recovery` skips it). Prints tables,
 * writes bench/results/faults.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Observer } from '@observer/tfjs';
import { startServer, type RunningServer } from '../server/app.ts';
import { generatedScenarios, ruined, SPLITS, describeRecipe, type Split } from './faults/generated.ts';
import { bestBeforeFault, briefOutcome, recovered, summariseRecovery, type RecoveryRecord } from './faults/recovery.ts';
import { summarise, type GeneratedRecord } from './faults/report.ts';
import { SCENARIOS, setLearningRate, type Outcome, type Scenario } from './faults/scenarios.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
/** Exit non-zero unless every fault that manifested was detected and every control stayed quiet (for `npm test`). */
const ASSERT = process.argv.includes('--assert');
const seedsArg = process.argv.indexOf('--seeds');
const onlyArg = process.argv.indexOf('--only');
/** `--only <text>`: just the scenarios whose name contains it. */
const ONLY = onlyArg > 0 ? process.argv[onlyArg + 1]! : null;
const SEEDS = seedsArg > 0 ? Number(process.argv[seedsArg + 1]) : QUICK ? 1 : 3;
const splitArg = process.argv.indexOf('--split');
/** `--split tuning|held-out|all|none`: which generated split runs (quick: tuning; full: all). */
const SPLIT = splitArg > 0 ? process.argv[splitArg + 1]! : QUICK ? 'tuning' : 'all';
if (!['tuning', 'held-out', 'all', 'none'].includes(SPLIT)) throw new Error(`--split ${SPLIT}: tuning, held-out, all or none`);
const genRunsArg = process.argv.indexOf('--gen-runs');
/** `--gen-runs N`: generated recipes per fault family and split (each with its observed healthy twin). */
const GEN_RUNS = genRunsArg > 0 ? Number(process.argv[genRunsArg + 1]) : QUICK ? 1 : 2;
/** The recovery section: generated runs always (quick: the faults a remedy is meant to fix), the hand-written scenarios in a full run or with `--recovery-hand-written`. */
const RECOVERY = !process.argv.includes('--no-recovery');
const RECOVERY_HAND_WRITTEN = RECOVERY && (!QUICK || process.argv.includes('--recovery-hand-written'));
/** `--recovery-all`: with `--quick`, every ruined run that paused is remedied, not only the faults a remedy is meant to fix. */
const RECOVERY_ALL = !QUICK || process.argv.includes('--recovery-all');

await tf.setBackend('cpu');
const tmp = mkdtempSync(path.join(tmpdir(), 'observer-faults-'));
const server: RunningServer = await startServer({ port: 0, databaseUrl: `file:${path.join(tmp, 'faults.db')}`, onUnexpected: (e) => console.error(e) });
await fetch(`${server.url}/projects`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"faults"}' });

/** Trains one run; streams it when `observe` is true. */
const stepsOf = (s: Scenario) => (QUICK && s.quickSteps ? s.quickSteps : s.steps);

/**
 * Trains one run; streams it when `observe` is true. Every pause is resumed at once: as it was,
 * or with `remedy`, with the top issue's remedies when it proposes any.
 */
async function train(s: Scenario, seed: number, faulty: boolean, observe: boolean, remedy = false): Promise<TrainResult> {
  const task = s.task(seed);
  const totalSteps = stepsOf(s);
  const run = s.build(task, seed, faulty);
  const n = task.xs.shape[0];
  const lossFn = (x: tf.Tensor, y: tf.Tensor): tf.Scalar => {
    const out = run.model.apply(x, { training: true }) as tf.Tensor;
    if (run.mse) return tf.losses.meanSquaredError(y, out) as tf.Scalar;
    return (run.logits ? tf.losses.softmaxCrossEntropy(y, out) : tf.metrics.categoricalCrossentropy(y, out).mean()) as tf.Scalar;
  };
  const batchOf = (step: number): [tf.Tensor2D, tf.Tensor2D] => {
    const natural = (step * s.batchSize) % Math.max(1, n - s.batchSize);
    const begin = run.batchAt ? run.batchAt(step, natural) : natural;
    return [task.xs.slice([begin, 0], [s.batchSize, -1]), task.ys.slice([begin, 0], [s.batchSize, -1])];
  };
  // A checkpoint to resume from: healthy steps nobody observes, then the run proper.
  for (let step = 0; step < (run.pretrain ?? 0); step++) {
    const natural = (step * s.batchSize) % Math.max(1, n - s.batchSize);
    const [xb, yb] = [task.xs.slice([natural, 0], [s.batchSize, -1]), task.ys.slice([natural, 0], [s.batchSize, -1])];
    // The same variable list as the run proper (optimizers keep their slots by position in it).
    tf.dispose([run.optimizer.minimize(() => lossFn(xb, yb), true, run.varList)!, xb, yb]);
  }
  run.afterPretrain?.();
  let pauses = 0;
  let currentStep = 0;
  let firstPauseStep: number | null = null;
  const chosen: string[] = [];
  let remediable: boolean | null = null;
  const obs = observe
    ? await Observer.create({
        projectId: 1,
        runName: `${s.name} seed ${seed}${faulty ? '' : ' twin'}`,
        config: { serverUrl: server.url, trackConsoleLogs: false, trackErrorLogs: false, trackProfiler: false, trackCarbonEmissions: false, pendingTimeout: 600 },
        // Detection is measured, not decided: every pause is resumed at once (with the top issue's remedies, for recovery).
        onPending: (p) => {
          pauses++;
          firstPauseStep ??= currentStep;
          const fix = remedy && p.remedies.length ? p.remedies : undefined;
          remediable ??= fix !== undefined;
          if (fix) chosen.push(`${currentStep}: ${fix.map((r) => r.kind).join('+')}`);
          // Remedies the server refuses (a proposal outside its own bounds) are said, and the run resumes without them.
          p.resume(fix).catch((err: Error) => {
            chosen.push(`${currentStep}: refused by the server (${err.message}); resumed without`);
            return p.resume();
          });
        },
      })
    : null;
  const probe = { x: task.valXs.slice([0, 0], [32, -1]), y: task.valYs.slice([0, 0], [32, -1]) };
  if (run.hyperparameters) obs?.logHyperparameters(run.hyperparameters);
  obs?.registerModel(run.model, { probe, optimizer: run.optimizer });
  const predict = (x: tf.Tensor): tf.Tensor => {
    const out = run.model.predict(x) as tf.Tensor;
    return run.logits ? tf.softmax(out) : out;
  };
  const startTensors = tf.memory().numTensors;
  const times: number[] = [];
  let sawNonFinite = false;
  let initialLoss = Number.NaN;
  let finalLoss = Number.NaN;
  const lossTrace: number[] = [];
  const valTrace: number[] = [];
  /** The training step each flush ended at (flushes can come early: a NaN). */
  const flushedAt: number[] = [];
  // Validation as a user's loop would measure it at each flush (one readback).
  const validate = async (): Promise<Record<string, number>> => {
    if (run.mse) {
      const l = tf.tidy(() => tf.losses.meanSquaredError(task.valYs, predict(task.valXs)));
      const vl = (await l.data())[0]!;
      l.dispose();
      valTrace.push(vl);
      return { val_loss: vl };
    }
    const [l, a] = tf.tidy(() => {
      const p = predict(task.valXs);
      return [tf.metrics.categoricalCrossentropy(task.valYs, p).mean(), tf.metrics.categoricalAccuracy(task.valYs, p).mean()];
    });
    const [vl, va] = [(await l!.data())[0]!, (await a!.data())[0]!];
    tf.dispose([l!, a!]);
    valTrace.push(vl);
    return { val_loss: vl, val_accuracy: va };
  };
  for (let step = 0; step < totalSteps; step++) {
    const t0 = performance.now();
    currentStep = step;
    // A schedule sets the learning rate each step: it runs unscaled and the remedies' scale applies on top (README: schedules).
    const scale = obs?.learningRateScale ?? 1;
    if (run.before && scale !== 1) setLearningRate(run.optimizer, (run.optimizer.getConfig().learningRate as number) / scale);
    run.before?.(step);
    if (run.before && scale !== 1) setLearningRate(run.optimizer, (run.optimizer.getConfig().learningRate as number) * scale);
    const [xb, yb] = batchOf(step);
    const x = run.batch ? run.batch(step, xb) : xb;
    let loss: tf.Scalar;
    if (run.flipGradients) {
      const { value, grads } = run.optimizer.computeGradients(() => lossFn(x, yb));
      const flipped = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.neg()]));
      run.optimizer.applyGradients(flipped);
      tf.dispose([...Object.values(grads), ...Object.values(flipped)]);
      loss = value;
    } else loss = run.optimizer.minimize(() => lossFn(x, yb), true, run.varList)!;
    obs?.step(step, loss, { batchSize: s.batchSize });
    const cadence = (step + 1) % s.flushEvery === 0 || step === totalSteps - 1;
    // The twin's train loss at the same cadence (no oracle reads a twin's validation trace).
    if (!obs && cadence) {
      const v = (await loss.data())[0]!;
      if (!Number.isFinite(v)) sawNonFinite = true;
      if (Number.isNaN(initialLoss)) initialLoss = v;
      finalLoss = v;
      lossTrace.push(v);
    }
    tf.dispose([loss, xb, yb, ...(x !== xb ? [x] : [])]);
    run.after?.(step);
    // Yield between steps, as a browser loop must; the observer's NaN watch resolves here and
    // asks for a flush at once when this step's loss was NaN or Infinity.
    await new Promise((r) => setImmediate(r));
    if (obs && (obs.flushDue || cadence)) {
      const r = await obs.flush({ valMetrics: await validate() });
      flushedAt.push(step);
      const v = r.loss?.train_mean ?? Number.NaN;
      if (r.loss?.first_non_finite_step != null || !Number.isFinite(v)) sawNonFinite = true;
      if (Number.isNaN(initialLoss)) initialLoss = v;
      finalLoss = v;
      lossTrace.push(v);
    }
    times.push(performance.now() - t0);
  }
  const [acc, majority] = tf.tidy(() => (run.mse ? [tf.scalar(Number.NaN), tf.scalar(Number.NaN)] : [tf.metrics.categoricalAccuracy(task.valYs, predict(task.valXs)).mean(), task.valYs.mean(0).max()]));
  const [valAccuracy, chance] = [(await acc!.data())[0]!, (await majority!.data())[0]!];
  const endVal = tf.tidy(() => (run.mse ? tf.losses.meanSquaredError(task.valYs, predict(task.valXs)) : tf.metrics.categoricalCrossentropy(task.valYs, predict(task.valXs)).mean()));
  const finalValLoss = (await endVal.data())[0]!;
  tf.dispose([acc!, majority!, endVal]);
  const tensorGrowth = tf.memory().numTensors - startTensors;
  await obs?.close();
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const outcome: Outcome = {
    initialLoss,
    finalLoss,
    valAccuracy,
    sawNonFinite,
    tensorGrowth,
    msPerStepEarly: mean(times.slice(10, Math.min(60, s.onset || 60))),
    msPerStepLate: mean(times.slice(-40)),
    lossTrace,
    valTrace,
    finalValLoss,
    chance,
  };
  tf.dispose([probe.x, probe.y, task.xs, task.ys, task.valXs, task.valYs, ...(run.held ?? [])]);
  run.model.dispose();
  const results = (obs?.remedyHistory ?? []).flatMap((h) => h.results.map((r) => `${h.afterStep}: ${r.kind} ${r.applied ? 'applied' : 'NOT applied'} (${r.detail})`));
  return { outcome, sessionId: obs?.sessionId ?? null, pauses, flushedAt, firstPauseStep, remediable: remediable ?? false, chosen, results };
}

interface TrainResult {
  outcome: Outcome;
  sessionId: number | null;
  pauses: number;
  flushedAt: number[];
  /** The training step at which the run was first paused (`pending`), or null. */
  firstPauseStep: number | null;
  /** With `remedy`: whether the first pause proposed remedies, what was chosen at each pause, and what the observer said of each. */
  remediable: boolean;
  chosen: string[];
  results: string[];
}

const recoveries: RecoveryRecord[] = [];

/**
 * The recovery of a fault run that paused and was ruined: trained again, resumed with the top
 * issue's remedies at each pause, and judged against its twin and against itself without a fix.
 */
async function recover(s: Scenario, seed: number, suite: string, family: string, noFix: TrainResult, twin: Outcome): Promise<void> {
  const t0 = performance.now();
  const fixed = await train(s, seed, true, true, true);
  const best = bestBeforeFault(noFix.outcome, noFix.flushedAt, s.onset);
  const record: RecoveryRecord = {
    suite,
    family,
    seed,
    steps: stepsOf(s),
    pauseStep: fixed.firstPauseStep,
    remediable: fixed.remediable,
    fixable: s.fixableBy !== undefined,
    chosen: fixed.chosen,
    results: fixed.results,
    recovered: recovered(fixed.outcome, twin, best),
    recoveredWithoutFix: recovered(noFix.outcome, twin, best),
    final: briefOutcome(fixed.outcome),
    withoutFix: briefOutcome(noFix.outcome),
    twin: briefOutcome(twin),
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  recoveries.push(record);
  console.log(JSON.stringify({ recovery: `${suite}: ${family} #${seed}`, seconds: record.seconds, remediable: record.remediable, recovered: record.recovered, without_fix: record.recoveredWithoutFix, chosen: record.chosen.join('; '), final: record.final, no_fix: record.withoutFix, twin: record.twin }));
  if (process.env.FAULTS_VERBOSE) for (const r of record.results) console.log(`  ${r}`);
}

interface FoundIssue {
  flush: number;
  severity: string;
  category: string;
  code: string;
  layerId: string | null;
  description: string;
}

async function issuesOf(sessionId: number): Promise<FoundIssue[]> {
  await server.services.diagnostics.idle();
  const runs = (await server.services.diagnostics.runs(sessionId, { first: 1000, withIssuesOnly: true })).items;
  return runs.flatMap((r) => r.issues.map((i) => ({ flush: r.stepIndex ?? -1, severity: i.severity, category: i.category, code: i.code, layerId: i.layerId, description: i.description })));
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : Number.NaN);
const p90 = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.9))]! : Number.NaN);

/** The issue's timing targets: a NaN within 1 step, 10 steps from the start, 5% of the run for build-ups. */
function earlyEnough(s: Scenario, steps: number): boolean {
  if (s.timing === 'non_finite') return steps <= 1;
  if (s.timing === 'from_start') return steps <= 10;
  return steps <= 0.05 * stepsOf(s);
}

const report: Record<string, unknown>[] = [];
const generated: GeneratedRecord[] = [];
const failures: string[] = [];

/** Each rule and layer once, at the first flush it was raised: `code@layer at flush N (severity)`. */
function firstOfEach(issues: FoundIssue[]): string[] {
  const seen = new Map<string, FoundIssue>();
  for (const i of [...issues].sort((a, b) => a.flush - b.flush)) seen.set(`${i.code}@${i.layerId ?? ''}`, seen.get(`${i.code}@${i.layerId ?? ''}`) ?? i);
  return [...seen.values()].map((i) => `${i.code}${i.layerId ? `@${i.layerId}` : ''} at flush ${i.flush} (${i.severity})`);
}

/** Trains a generated recipe with its fault and its healthy twin, both observed, and judges both. */
async function runGenerated(g: ReturnType<typeof generatedScenarios>[number]): Promise<GeneratedRecord> {
  const seed = g.seedOverride!;
  const faulty = await train(g, seed, true, true);
  const twin = await train(g, seed, false, true);
  const issues = (await issuesOf(faulty.sessionId!)).filter((i) => i.severity !== 'info');
  const twinIssues = (await issuesOf(twin.sessionId!)).filter((i) => i.severity !== 'info');
  const manifested = (g.manifested as (f: Outcome, t: Outcome) => boolean)(faulty.outcome, twin.outcome);
  const brief = (o: Outcome) => `loss ${o.initialLoss.toPrecision(3)} -> ${o.finalLoss.toPrecision(3)}, val acc ${o.valAccuracy.toPrecision(3)}`;
  if (process.env.FAULTS_VERBOSE) console.log(`  ${g.name}: faulty ${brief(faulty.outcome)}; twin ${brief(twin.outcome)}`);
  const e = g.expect!;
  const match = (i: FoundIssue) => e.categories.includes(i.category) && (!e.codes || e.codes.includes(i.code));
  const first = issues.filter(match).sort((a, b) => a.flush - b.flush)[0];
  const firstSerious = [...issues].sort((a, b) => a.flush - b.flush)[0];
  if (process.env.FAULTS_VERBOSE) for (const i of [...issues, ...twinIssues.map((t) => ({ ...t, code: `TWIN ${t.code}` }))]) console.log(`  ${i.severity} ${i.code}@${i.layerId ?? ''} at flush ${i.flush}: ${i.description}`);
  // Quick (npm test): only the faults a remedy is meant to fix, to stay within its time.
  if (RECOVERY && (RECOVERY_ALL || g.fixableBy) && manifested && faulty.pauses > 0 && ruined(faulty.outcome, twin.outcome)) await recover(g, seed, g.split, g.family, faulty, twin.outcome);
  return {
    split: g.split,
    family: g.family,
    seed,
    recipe: describeRecipe(g.recipe),
    steps: g.steps,
    timing: g.timing ?? 'builds_up',
    manifested,
    detected: first !== undefined,
    firstRightCategory: firstSerious !== undefined && e.categories.includes(firstSerious.category),
    rightLayer: e.layer ? issues.some((i) => match(i) && i.layerId === e.layer) : null,
    stepsToDetect: first ? (first.flush < 0 ? 0 : Math.max(0, faulty.flushedAt[first.flush]! + 1 - g.onset)) : null,
    ruined: manifested && ruined(faulty.outcome, twin.outcome),
    paused: faulty.pauses > 0,
    pauseStep: faulty.firstPauseStep,
    issues: [...new Set(issues.map((i) => `${i.code}${i.layerId ? `@${i.layerId}` : ''}`))],
    twinWarnings: firstOfEach(twinIssues),
    twinPaused: twin.pauses > 0,
    // A twin that did not learn is not a healthy run (a recipe that fails without any fault).
    twinHealthy: g.recipe.start === 'resumed' || g.recipe.start === 'fine_tuned' || twin.outcome.finalLoss < 0.9 * twin.outcome.initialLoss,
  };
}
const started = Date.now();
try {
  for (const s of SCENARIOS.filter((x) => !ONLY || x.name.includes(ONLY))) {
    const row: Record<string, number | string> = { scenario: s.name, kind: s.kind, runs: 0 };
    const delays: number[] = [];
    let manifested = 0;
    let detected = 0;
    let rightLayer = 0;
    let wrongCategory = 0;
    let withWarning = 0;
    let critical = 0;
    let warnings = 0;
    let totalSteps = 0;
    let pauses = 0;
    /** What the controls' warnings were (code@step), so a false alarm in the JSON says what fired. */
    const controlWarnings: string[] = [];
    /** Runs whose loss went non-finite, and those of them warned of a diverging loss at an earlier flush. */
    /** Manifested runs whose first serious issue was of an expected category. */
    let firstRight = 0;
    let nonFiniteRuns = 0;
    let warnedBeforeNonFinite = 0;
    const seeds = QUICK && s.quickSeed ? [s.quickSeed] : Array.from({ length: SEEDS }, (_, i) => i + 1);
    for (const seed of seeds) {
      row.runs = Number(row.runs) + 1;
      const faulty = await train(s, seed, true, true);
      const issues = await issuesOf(faulty.sessionId!);
      if (process.env.FAULTS_VERBOSE) console.log(s.name, seed, JSON.stringify(faulty.outcome, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(3)) : v)), [...new Set(issues.map((i) => `${i.code}@${i.layerId ?? ''}`))].join(' '));
      const serious = issues.filter((i) => i.severity !== 'info');
      totalSteps += stepsOf(s);
      pauses += faulty.pauses;
      if (s.kind === 'control') {
        if (process.env.FAULTS_VERBOSE) for (const i of serious) console.log(`  ${i.severity} ${i.code} at step ${i.flush}: ${i.description}`);
        if (serious.length) withWarning++;
        controlWarnings.push(...serious.map((i) => `seed ${seed}: ${i.code}${i.layerId ? `@${i.layerId}` : ''} at step ${i.flush}`));
        if (issues.some((i) => i.severity === 'critical')) critical++;
        warnings += new Set(serious.map((i) => `${i.code}@${i.layerId}@${i.flush}`)).size;
        continue;
      }
      // A twin only for an oracle that compares with one (and for the recovery section).
      let twin = s.manifested!.length > 1 ? (await train(s, seed, false, false)).outcome : null;
      if (!(twin ? s.manifested!(faulty.outcome, twin) : (s.manifested as (f: Outcome) => boolean)(faulty.outcome))) continue;
      manifested++;
      if (RECOVERY_HAND_WRITTEN && (RECOVERY_ALL || s.fixableBy) && faulty.pauses > 0) {
        twin ??= (await train(s, seed, false, false)).outcome;
        if (ruined(faulty.outcome, twin)) await recover(s, seed, 'hand-written', s.name, faulty, twin);
      }
      const e = s.expect!;
      const match = (i: FoundIssue) => e.categories.includes(i.category) && (!e.codes || e.codes.includes(i.code)) && i.severity !== 'info';
      const first = serious.filter(match).sort((a, b) => a.flush - b.flush)[0];
      if (first) {
        detected++;
        // Steps from the onset to the end of the flush that raised it (issues before step 0: at registration).
        delays.push(first.flush < 0 ? 0 : Math.max(0, faulty.flushedAt[first.flush]! + 1 - s.onset));
      }
      if (e.layer && serious.some((i) => match(i) && i.layerId === e.layer)) rightLayer++;
      const firstSerious = [...serious].sort((a, b) => a.flush - b.flush)[0];
      if (firstSerious && e.categories.includes(firstSerious.category)) firstRight++;
      const nanAt = Math.min(...issues.filter((i) => i.code === 'loss.non_finite').map((i) => i.flush));
      if (Number.isFinite(nanAt)) {
        nonFiniteRuns++;
        if (issues.some((i) => i.code === 'loss.diverging' && i.flush < nanAt)) warnedBeforeNonFinite++;
      }
      wrongCategory += serious.filter((i) => !e.categories.includes(i.category)).length;
    }
    if (s.kind === 'control')
      Object.assign(row, { runs_with_warning: withWarning, warnings_per_1000_steps: (1000 * warnings) / Math.max(1, totalSteps), runs_with_critical: critical, pauses, warnings: controlWarnings.join('; ') });
    else
      Object.assign(row, {
        manifested,
        detected,
        first_issue_right_category: firstRight,
        right_layer: s.expect?.layer ? rightLayer : '-',
        steps_to_detect_median: median(delays),
        steps_to_detect_p90: p90(delays),
        pct_of_run: Math.round((1000 * median(delays)) / stepsOf(s)) / 10,
        early_enough: delays.length ? (earlyEnough(s, median(delays)) ? 'yes' : 'no') : '-',
        wrong_category_issues: wrongCategory,
        diverging_before_nan: nonFiniteRuns ? `${warnedBeforeNonFinite}/${nonFiniteRuns}` : '-',
      });
    report.push(row);
    console.log(JSON.stringify(row));
  }
  const splits: readonly Split[] = SPLIT === 'all' ? SPLITS : SPLIT === 'none' ? [] : [SPLIT as Split];
  for (const split of splits)
    for (const g of generatedScenarios(split, GEN_RUNS, QUICK).filter((x) => !ONLY || x.name.includes(ONLY))) {
      let record: GeneratedRecord;
      try {
        record = await runGenerated(g);
      } catch (err) {
        // A recipe the bench cannot train is reported, not allowed to lose the other runs' figures.
        console.error(`${g.name}: ${(err as Error).message}`);
        failures.push(`${g.name}: the bench failed: ${(err as Error).message}`);
        continue;
      }
      generated.push(record);
      console.log(JSON.stringify({ run: g.name, recipe: record.recipe, manifested: record.manifested, detected: record.detected, paused: record.paused, ruined: record.ruined, issues: record.issues.join(' '), twin: record.twinWarnings.join('; ') }));
    }
} finally {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
}

console.table(report);
const faults = report.filter((r) => r.kind === 'fault');
const totals = {
  manifested: faults.reduce((n, r) => n + Number(r.manifested), 0),
  detected: faults.reduce((n, r) => n + Number(r.detected), 0),
  first_issue_right_category: faults.reduce((n, r) => n + Number(r.first_issue_right_category), 0),
  layer_faults_manifested: faults.filter((r) => r.right_layer !== '-').reduce((n, r) => n + Number(r.manifested), 0),
  right_layer: faults.filter((r) => r.right_layer !== '-').reduce((n, r) => n + Number(r.right_layer), 0),
  early_enough_scenarios: `${faults.filter((r) => r.early_enough === 'yes').length}/${faults.filter((r) => r.early_enough !== '-').length}`,
  control_runs: report.filter((r) => r.kind === 'control').reduce((n, r) => n + Number(r.runs), 0),
  control_runs_with_warning: report.filter((r) => r.kind === 'control').reduce((n, r) => n + Number(r.runs_with_warning), 0),
  control_runs_with_critical: report.filter((r) => r.kind === 'control').reduce((n, r) => n + Number(r.runs_with_critical), 0),
  minutes: (Date.now() - started) / 60000,
};
const generatedSummary = summarise(generated);
for (const [split, sum] of Object.entries(generatedSummary)) {
  console.log(`generated, ${split} split:`);
  console.table(sum.families.map(({ missed: _missed, ...row }) => row));
  console.log(sum.totals, sum.healthy_warnings);
}
const recoverySummary = summariseRecovery(recoveries);
for (const [suite, sum] of Object.entries(recoverySummary)) {
  console.log(`recovery, ${suite} (ruined runs that paused, resumed with the top issue's remedies):`);
  console.table(sum.families);
  console.log(sum.totals);
}
// A remedy that threw in the observer is a bug, not a figure.
for (const r of recoveries) for (const res of r.results) if (res.includes('NOT applied (failed:')) failures.push(`${r.family} #${r.seed} (${r.suite}): ${res}`);
const timings = server.services.diagnostics.timings();
console.log(totals, { diagnostics_ms_per_flush: timings });
for (const r of report) {
  // A fault the oracle did not see is nothing to detect: said, not failed (the scenario needs a stronger recipe).
  if (r.kind === 'fault' && r.manifested !== r.runs) console.warn(`note: ${r.scenario}: the fault manifested in ${r.manifested} of ${r.runs} runs`);
  if (r.kind === 'fault' && r.detected !== r.manifested) failures.push(`${r.scenario}: ${r.manifested}/${r.runs} manifested, ${r.detected} detected`);
  if (r.kind === 'control' && (Number(r.runs_with_warning) > 0 || Number(r.runs_with_critical) > 0 || Number(r.pauses) > 0))
    failures.push(`${r.scenario}: ${r.runs_with_warning} runs with warnings, ${r.runs_with_critical} with critical issues, ${r.pauses} pauses`);
}
// Generated runs: a healthy twin never pauses; a missed fault is reported, not failed (the recipes are drawn, not chosen).
for (const r of generated) if (r.twinHealthy && r.twinPaused) failures.push(`${r.family} #${r.seed} (${r.split}): the healthy twin paused (${r.twinWarnings.join('; ')})`);
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(
  path.join(ROOT, `bench/results/faults${QUICK ? '-quick' : ''}.json`),
  JSON.stringify({ quick: QUICK, seeds: SEEDS, at: new Date().toISOString(), totals, diagnostics_ms_per_flush: timings, scenarios: report, generated: { runs_per_family: GEN_RUNS, splits: generatedSummary, runs: generated }, recovery: recoverySummary }, null, 2),
);
console.log(`wrote bench/results/faults${QUICK ? '-quick' : ''}.json`);
if (ASSERT && failures.length) {
  console.error(`bench:faults --assert: ${failures.length} failed\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
