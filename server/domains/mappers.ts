import type { DiagnosticIssue, DiagnosticRun, Model, SessionLog, TrainSession, TrainStep } from '../generated/prisma/client.ts';
import type { Category, Severity, StepRecord } from '../diagnostics/types.ts';
import { parseExtendedJson, type JsonObject } from '../lib/extended-json.ts';
import type { SessionStatus } from './sessions/status.ts';
import type { DiagnosticRunView, IssueView, LogView, ModelView, SessionView, StepView } from './views.ts';
import { readRemedies } from './remedies/remedies.schemas.ts';

/**
 * Reads a JSON text column; a value that is not an object (or bad text) reads as null. Stored
 * values were checked when they came in, so they are parsed as trusted (no shape walk: a
 * chart of 10,000 steps reads 30,000 of them).
 */
export function readObject(text: string | null): JsonObject | null {
  if (text === null) return null;
  try {
    const v = parseExtendedJson(text, Infinity);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function readNumber(text: string | null): number | null {
  if (text === null) return null;
  const v = parseExtendedJson(text, Infinity);
  return typeof v === 'number' ? v : null;
}

export const toSessionView = (r: TrainSession): SessionView => ({
  id: r.id,
  projectId: r.projectId,
  runId: r.runId,
  runName: r.runName,
  startedAt: r.startedAt,
  endedAt: r.endedAt,
  device: r.device,
  cudaAvailable: r.cudaAvailable,
  pytorchVersion: r.pytorchVersion,
  config: readObject(r.config),
  metadata: readObject(r.metadata),
  status: r.status as SessionStatus,
  statusVersion: r.statusVersion,
});

export const toModelView = (r: Model): ModelView => ({
  id: r.id,
  sessionId: r.sessionId,
  architecture: readObject(r.architecture),
  hyperparameters: readObject(r.hyperparameters),
  createdAt: r.createdAt,
});

/** The JSON channels of a stored step (its text columns holding objects). */
export const JSON_CHANNELS = ['loss', 'throughput', 'profiler', 'memory', 'system', 'layerHealth', 'sustainability', 'carbonEmissions', 'extra'] as const;
/** Every stored channel: the JSON ones and the duration. */
export type StepChannel = 'durationSeconds' | (typeof JSON_CHANNELS)[number];

/**
 * A stored step. Its channels are parsed when first read: a chart that asks for the loss of
 * 10,000 steps does not pay for parsing their per-layer health and profiles.
 */
export function toStepView(r: TrainStep): StepView {
  const view = { id: r.id, sessionId: r.sessionId, stepIndex: r.stepIndex, timestamp: r.timestamp, createdAt: r.createdAt } as StepView;
  let duration: number | null | undefined;
  Object.defineProperty(view, 'durationSeconds', { enumerable: true, get: () => (duration === undefined ? (duration = readNumber(r.durationSeconds ?? null)) : duration) });
  for (const key of JSON_CHANNELS) {
    let parsed: JsonObject | null | undefined;
    Object.defineProperty(view, key, { enumerable: true, get: () => (parsed === undefined ? (parsed = readObject(r[key] ?? null)) : parsed) });
  }
  return view;
}

/** The step as the seed's record (what the rules and legacy clients read). */
export const toStepRecord = (v: StepView): StepRecord & JsonObject =>
  ({
    ...(v.extra ?? {}),
    step_index: v.stepIndex,
    timestamp: v.timestamp,
    duration_seconds: v.durationSeconds,
    loss: v.loss,
    throughput: v.throughput,
    profiler: v.profiler,
    memory: v.memory,
    system: v.system,
    layer_health: v.layerHealth,
    sustainability: v.sustainability,
    carbon_emissions: v.carbonEmissions,
  }) as StepRecord & JsonObject;

export const toLogView = (r: SessionLog): LogView => ({
  id: r.id,
  sessionId: r.sessionId,
  ts: r.ts,
  level: r.level,
  msg: r.msg,
  module: r.module,
  lineno: r.lineno,
  kind: r.kind,
  createdAt: r.createdAt,
});

const toIssueView = (r: DiagnosticIssue): IssueView => ({
  id: r.id,
  code: r.code,
  severity: r.severity as Severity,
  category: r.category as Category,
  title: r.title,
  description: r.description,
  suggestion: r.suggestion ?? '',
  confidence: r.confidence,
  layerId: r.layerId,
  epochIndex: r.epochIndex,
  metricValue: readObject(r.metricValue),
  remedies: readRemedies(r.remedies),
});

export const toRunView = (r: DiagnosticRun & { issues: DiagnosticIssue[] }): DiagnosticRunView => ({
  id: r.id,
  sessionId: r.sessionId,
  stepIndex: r.stepIndex,
  healthScore: r.healthScore,
  issueCount: r.issueCount,
  verdict: r.verdict as SessionStatus,
  createdAt: r.createdAt,
  issues: r.issues.map(toIssueView),
});
