import type { Db } from '../../db/client.ts';
import type { ChosenRemedy } from '../../diagnostics/remedy.ts';
import { notFound, validationError } from '../../errors.ts';
import type { Prisma, RemedyApplication } from '../../generated/prisma/client.ts';
import { parseExtendedJson, stringifyExtendedJson } from '../../lib/extended-json.ts';
import { PAGE, pageSize } from '../../lib/pagination.ts';
import type { Page, RemedyApplicationView, RemedyResult } from '../views.ts';
import { readChosen, readRemedies, remedyReportInput, type RemedyReportInput } from './remedies.schemas.ts';

/** What a resume with remedies stores, in the transaction that moves the status: the application before its id, time and report. */
type NewApplication = Omit<RemedyApplicationView, 'id' | 'createdAt' | 'report' | 'reportedAt'>;

/**
 * Remedies chosen with a resume, and what the observer made of them. The resume itself (the
 * rule that remedies go with `resume` only, the status change and the insert in one
 * transaction) is `SessionsService.act`; the adapters parse (remedies.schemas.ts); this service
 * stores and reads.
 */
export class RemediesService {
  constructor(private readonly db: Db) {}

  /**
   * A rollback chosen without a step goes to the last good state the diagnostics named (the
   * newest rollback proposed for the session); it stays null (the observer's newest snapshot)
   * when they named none.
   */
  async complete(sessionId: number, remedies: ChosenRemedy[]): Promise<ChosenRemedy[]> {
    if (!remedies.some((r) => r.kind === 'rollback' && r.toStep === null)) return remedies;
    const proposed = await this.db.diagnosticIssue.findFirst({
      where: { run: { sessionId }, remedies: { contains: '"rollback"' } },
      orderBy: { id: 'desc' },
      select: { remedies: true },
    });
    const toStep = readRemedies(proposed?.remedies ?? null).find((r) => r.kind === 'rollback')?.toStep ?? null;
    if (toStep === null || toStep === undefined) return remedies;
    return remedies.map((r) => (r.kind === 'rollback' && r.toStep === null ? { ...r, toStep } : r));
  }

  /** Stores an application inside the caller's transaction (the one that moves the status). */
  async insertIn(tx: Prisma.TransactionClient, a: NewApplication): Promise<RemedyApplicationView> {
    const row = await tx.remedyApplication.create({
      data: {
        sessionId: a.sessionId,
        statusVersion: a.statusVersion,
        stepIndex: a.stepIndex,
        remedies: stringifyExtendedJson(a.remedies),
        chosenBy: a.chosenBy,
        source: a.source,
        issueKeys: JSON.stringify(a.issueKeys),
      },
    });
    return toApplicationView(row);
  }

  /** A session's applications, oldest first, after the application id `after`: at most `first` (100 by default, 1,000 at most). */
  async list(sessionId: number, opts: { first?: number | null; after?: number | null } = {}): Promise<Page<RemedyApplicationView>> {
    const take = pageSize(opts.first, PAGE.remedies);
    const rows = await this.db.remedyApplication.findMany({
      where: { sessionId, ...(opts.after != null ? { id: { gt: opts.after } } : {}) },
      orderBy: { id: 'asc' },
      take: take + 1,
    });
    const items = rows.slice(0, take).map(toApplicationView);
    return { items, nextCursor: rows.length > take ? items[items.length - 1]!.id : null };
  }

  /** The application whose resume produced this status version, if one did. */
  async atVersion(sessionId: number, statusVersion: number): Promise<RemedyApplicationView | null> {
    const row = await this.db.remedyApplication.findUnique({ where: { sessionId_statusVersion: { sessionId, statusVersion } } });
    return row ? toApplicationView(row) : null;
  }

  /**
   * Stores what the observer did with the remedies of one resume (a later report replaces an
   * earlier one: an observer's outbox may send it twice).
   * @throws DomainError NOT_FOUND (no such application in this session), VALIDATION_FAILED (a
   * result for a remedy that was not chosen, or twice for one)
   */
  async report(sessionId: number, applicationId: number, { results }: RemedyReportInput): Promise<RemedyApplicationView> {
    const row = await this.db.remedyApplication.findFirst({ where: { id: applicationId, sessionId } });
    if (!row) throw notFound('Remedy application', applicationId);
    const chosen = readChosen(row.remedies).map((r) => r.kind);
    const seen = new Set<string>();
    results.forEach((r, i) => {
      if (!chosen.includes(r.kind))
        throw validationError(`Invalid report: results.${i}.kind: ${r.kind} was not chosen with this resume (chosen: ${chosen.join(', ')})`, { chosen });
      if (seen.has(r.kind)) throw validationError(`Invalid report: results.${i}.kind: ${r.kind} is reported twice`);
      seen.add(r.kind);
    });
    const report: RemedyResult[] = results.map((r) => ({ kind: r.kind, applied: r.applied, detail: r.detail ?? null }));
    const updated = await this.db.remedyApplication.update({ where: { id: row.id }, data: { report: JSON.stringify(report), reportedAt: new Date() } });
    return toApplicationView(updated);
  }
}

/** A stored application as services return it. */
function toApplicationView(r: RemedyApplication): RemedyApplicationView {
  return {
    id: r.id,
    sessionId: r.sessionId,
    statusVersion: r.statusVersion,
    stepIndex: r.stepIndex,
    remedies: readChosen(r.remedies),
    chosenBy: r.chosenBy,
    source: r.source,
    issueKeys: readStrings(r.issueKeys),
    createdAt: r.createdAt,
    report: r.report === null ? null : readResults(r.report),
    reportedAt: r.reportedAt,
  };
}

function readStrings(text: string | null): string[] {
  const v = text ? parseExtendedJson(text) : [];
  return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
}

function readResults(text: string): RemedyResult[] {
  const v = parseExtendedJson(text);
  if (!Array.isArray(v)) return [];
  return v.flatMap((e) => {
    const r = remedyReportInput.shape.results.element.safeParse(e);
    return r.success ? [{ kind: r.data.kind, applied: r.data.applied, detail: r.data.detail ?? null }] : [];
  });
}
