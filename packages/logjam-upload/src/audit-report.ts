// --audit's output: one line on stdout per problem (and per conflict copy or
// removed archive, which are not problems), then the summary line; JSON
// objects under --log-format json; and the logjam_upload_audit_* gauges.
import { metric, readMetricsFile, UsageError, writeMetricsFile, type LogFormat, type Metric } from '@logjam/core';
import type { ProblemKind, Verdict } from './audit-object.js';

export const PROBLEM_KINDS: readonly ProblemKind[] = ['missing', 'different', 'truncated', 'unknown'];

export interface AuditCounts {
  /** Markers audited. */
  audited: number;
  /** Archives whose object is theirs, byte for byte as far as size and ETag tell (conflict copies included). */
  intact: number;
  missing: number;
  different: number;
  truncated: number;
  unknown: number;
  /** Of the intact, those found at a conflict key. */
  conflicts: number;
  /** Markers whose archive is gone here, whose object exists (its content cannot be checked). */
  removed: number;
  /** Archives without a marker: waiting for upload, not audited. */
  pending: number;
  /** Requests sent to S3, every attempt counted. */
  requests: number;
}

export function emptyCounts(): AuditCounts {
  return {
    audited: 0,
    intact: 0,
    missing: 0,
    different: 0,
    truncated: 0,
    unknown: 0,
    conflicts: 0,
    removed: 0,
    pending: 0,
    requests: 0,
  };
}

export function problems(counts: AuditCounts): number {
  return PROBLEM_KINDS.reduce((sum, kind) => sum + counts[kind], 0);
}

/** Counts the verdict; the line to print for it, or null for a plainly intact archive. */
export function record(counts: AuditCounts, verdict: Verdict): string | null {
  counts.audited += 1;
  if (verdict.kind === 'intact') {
    counts.intact += 1;
    if (verdict.conflict === undefined) return null;
    counts.conflicts += 1;
    return 'conflict';
  }
  counts[verdict.kind] += 1;
  return verdict.kind;
}

/** One finding's line: `KIND FILE URI: DETAIL`, or a JSON object. */
export function findingLine(
  format: LogFormat,
  finding: { kind: string; file: string; uri: string; detail: string },
  now: Date,
): string {
  if (format === 'json')
    return `${JSON.stringify({ time: now.toISOString(), kind: finding.kind, file: finding.file, uri: finding.uri, detail: finding.detail })}\n`;
  return `${finding.kind} ${finding.file} ${finding.uri}: ${finding.detail}\n`;
}

/** The summary: `audited=N intact=N missing=N different=N ... pending=N requests=N`, or a JSON object with kind "summary". */
export function summaryLine(format: LogFormat, counts: AuditCounts, now: Date): string {
  if (format === 'json') return `${JSON.stringify({ time: now.toISOString(), kind: 'summary', ...counts })}\n`;
  const order: Array<keyof AuditCounts> = [
    'audited',
    'intact',
    'missing',
    'different',
    'truncated',
    'unknown',
    'conflicts',
    'removed',
    'pending',
    'requests',
  ];
  return `${order.map((name) => `${name}=${counts[name]}`).join(' ')}\n`;
}

const P = 'logjam_upload_audit_';

/**
 * A --metrics-file that holds logjam-upload's own pass metrics is refused:
 * rewriting it would drop their counters (the audit writes only its gauges).
 */
export async function checkAuditMetricsFile(file: string): Promise<void> {
  const samples = await readMetricsFile(file);
  if ([...samples.keys()].some((name) => name.startsWith('logjam_upload_') && !name.startsWith(P))) {
    throw new UsageError(
      `--metrics-file ${file} holds logjam-upload's pass metrics; give --audit a file of its own (such as logjam-upload-audit.prom beside it)`,
    );
  }
}

/** The audit's gauges: problems by kind, the counts, when it ran and whether it passed. */
export async function writeAuditMetrics(file: string, counts: AuditCounts, now: number): Promise<void> {
  const metrics: Metric[] = [
    {
      name: `${P}problems`,
      type: 'gauge',
      help: 'Marked archives the last audit found not intact in S3, by kind (missing, different, truncated, unknown).',
      samples: PROBLEM_KINDS.map((kind) => ({ labels: { kind }, value: counts[kind] })),
    },
    metric(`${P}archives`, 'gauge', 'Markers (archives confirmed uploaded) the last audit checked.', counts.audited),
    metric(`${P}intact`, 'gauge', 'Of them, archives whose object in S3 has their size and MD5 (ETag).', counts.intact),
    metric(
      `${P}conflict_copies`,
      'gauge',
      'Of the intact, archives found at a conflict key (their own key holds another object).',
      counts.conflicts,
    ),
    metric(
      `${P}removed`,
      'gauge',
      'Markers whose archive was removed here and whose object exists (its content cannot be checked).',
      counts.removed,
    ),
    metric(`${P}pending`, 'gauge', 'Archives not yet uploaded (no marker) at the last audit.', counts.pending),
    metric(`${P}requests`, 'gauge', 'Requests the last audit sent to S3.', counts.requests),
    metric(
      `${P}success`,
      'gauge',
      '1 when every marked archive was intact at the last audit, else 0.',
      problems(counts) === 0 ? 1 : 0,
    ),
    metric(`${P}last_run_timestamp_seconds`, 'gauge', 'When the last audit finished (Unix time).', now / 1000),
  ];
  await writeMetricsFile(file, metrics);
}
