import { z } from 'zod';
import { inApplyOrder, REMEDY_KINDS, REMEDY_LIMITS, START_OF_RUN, type ChosenRemedy, type Remedy, type RemedyKind } from '../../diagnostics/remedy.ts';
import { parseExtendedJson } from '../../lib/extended-json.ts';
import { int32, parseInput, text } from '../../lib/validate.ts';

const kindList = REMEDY_KINDS.join(', ');

const factor = z
  .number({ message: 'expected a number' })
  .refine(Number.isFinite, 'expected a finite number')
  .refine((f) => f >= REMEDY_LIMITS.minFactor && f <= REMEDY_LIMITS.maxFactor, `expected a factor from ${REMEDY_LIMITS.minFactor} to ${REMEDY_LIMITS.maxFactor}`)
  .refine((f) => f !== 1, 'a factor of 1 changes nothing');
const maxNorm = z
  .number({ message: 'expected a number' })
  .refine((n) => Number.isFinite(n) && n > 0 && n <= REMEDY_LIMITS.maxNorm, `expected a norm above 0 and at most ${REMEDY_LIMITS.maxNorm}`);
const step = int32(0).nullish();
/** A rollback's target flush, or -1 for the state the run started with (`START_OF_RUN`). */
const rollbackStep = int32(START_OF_RUN).nullish();
/** What a client may send besides the parameters: the proposal's words, when it picked one. */
const common = {
  reason: text(1000).nullish(),
  confidence: z.number({ message: 'expected a number' }).min(0, 'expected 0 to 1').max(1, 'expected 0 to 1').nullish(),
};

/** One remedy as a client sends it (camelCase; the REST adapter maps the seed's snake_case). Unknown keys are refused. */
const remedyInput = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('scale_learning_rate'), factor, ...common }),
    z.strictObject({ kind: z.literal('clip_gradients'), maxNorm, ...common }),
    z.strictObject({ kind: z.literal('rollback'), toStep: rollbackStep, ...common }),
    z.strictObject({ kind: z.literal('skip_batch'), atStep: step, trainingStep: step, ...common }),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? `kind: expected one of ${kindList}` : undefined) },
);
type RemedyInput = z.output<typeof remedyInput>;

/** The remedies of one resume: at most one of each kind. */
export const remedyList = z
  .array(remedyInput, { message: 'expected a list of remedies' })
  .max(REMEDY_LIMITS.maxPerResume, `at most ${REMEDY_LIMITS.maxPerResume} remedies, one of each kind`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((r, i) => {
      if (seen.has(r.kind)) ctx.addIssue({ code: 'custom', path: [i, 'kind'], message: `${r.kind} is chosen twice; choose each kind once` });
      seen.add(r.kind);
    });
  });

/** Who says what about the resume: a label for the record (`dashboard`, `trainer`, `observer:timeout`). */
const remedySource = text(100).nullish();

/** What an observer reports it did with the remedies of one resume. */
export const remedyReportInput = z.strictObject({
  results: z
    .array(
      z.strictObject({
        kind: z.enum(REMEDY_KINDS as [RemedyKind, ...RemedyKind[]], { message: `expected one of ${kindList}` }),
        applied: z.boolean({ message: 'expected true or false' }),
        detail: text(1000).nullish(),
      }),
      { message: 'expected a list of results' },
    )
    .min(1, 'expected at least one result')
    .max(REMEDY_LIMITS.maxPerResume, `at most ${REMEDY_LIMITS.maxPerResume} results, one per remedy`),
});
export type RemedyReportInput = z.output<typeof remedyReportInput>;
/** @throws DomainError VALIDATION_FAILED */
export const parseReport = (value: unknown): RemedyReportInput => parseInput(remedyReportInput, value, 'report');

/**
 * The remedies a client sent, validated, in the order an observer applies them; none for
 * `undefined`, null or an empty list. @throws DomainError VALIDATION_FAILED naming the problem
 */
export function parseRemedies(input: unknown): ChosenRemedy[] {
  if (input === undefined || input === null) return [];
  // Parsed as a field, so that problems are named `remedies.0.factor` as the client sent them.
  return inApplyOrder(parseInput(z.object({ remedies: remedyList }), { remedies: input }, 'remedies').remedies.map(toChosen));
}

/** The client's label for the record (`dashboard`, `trainer`, ...). @throws DomainError VALIDATION_FAILED */
export const parseSource = (input: unknown): string | null => parseInput(remedySource, input, 'source') ?? null;

/** A chosen remedy as stored: the input with every optional field present (null when absent). */
export function toChosen(r: RemedyInput): ChosenRemedy {
  const words = { reason: r.reason ?? null, confidence: r.confidence ?? null };
  switch (r.kind) {
    case 'scale_learning_rate':
      return { kind: r.kind, factor: r.factor, ...words };
    case 'clip_gradients':
      return { kind: r.kind, maxNorm: r.maxNorm, ...words };
    case 'rollback':
      return { kind: r.kind, toStep: r.toStep ?? null, ...words };
    case 'skip_batch':
      return { kind: r.kind, atStep: r.atStep ?? null, trainingStep: r.trainingStep ?? null, ...words };
  }
}

/**
 * Remedies stored as JSON text (the proposals of an issue, or those of a resume), read back;
 * entries this version cannot read (a kind added later) are left out, never thrown on.
 */
export function readRemedies(textValue: string | null): Remedy[] {
  if (!textValue) return [];
  const v = parseExtendedJson(textValue);
  if (!Array.isArray(v)) return [];
  return v.flatMap((entry) => {
    const r = remedyInput.safeParse(entry);
    return r.success ? [{ ...toChosen(r.data), reason: r.data.reason ?? '', confidence: r.data.confidence ?? 0 } as Remedy] : [];
  });
}

/** Chosen remedies stored as JSON text, read back (see `readRemedies`). */
export function readChosen(textValue: string | null): ChosenRemedy[] {
  if (!textValue) return [];
  const v = parseExtendedJson(textValue);
  if (!Array.isArray(v)) return [];
  return v.flatMap((entry) => {
    const r = remedyInput.safeParse(entry);
    return r.success ? [toChosen(r.data)] : [];
  });
}
