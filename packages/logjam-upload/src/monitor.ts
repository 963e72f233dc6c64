// What monitoring sees: the archives waiting for upload (--check, and the
// backlog gauges of --metrics-file) and the metrics written after every pass.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  displayName,
  errorCode,
  metric,
  namePath,
  passMetrics,
  writeMetricsFile,
  type BacklogItem,
  type LogName,
  type Metric,
  type PassMeasure,
} from '@logjam/core';
import { listPending } from './ledger.js';
import type { PassSummary } from './context.js';

/**
 * Archives without a marker, each with the instant it became due: its mtime,
 * which logjam-compress carries over from the log file (the time of its last
 * line). No network, touches nothing.
 */
export async function uploadBacklog(archiveDir: string): Promise<BacklogItem[]> {
  return [...(await backlogOf(archiveDir, await listPending(archiveDir))).values()];
}

/** The backlog items of the pending files `pending` (a pass's listing), by name; those gone meanwhile are left out. */
export async function backlogOf(archiveDir: string, pending: LogName[]): Promise<Map<string, BacklogItem>> {
  const items = new Map<string, BacklogItem>();
  for (const log of pending) {
    const file = path.join(archiveDir, displayName(log.name));
    const onDisk = namePath(archiveDir, log.name);
    try {
      // lstat: what a link points to (perhaps a file only root may read) is never looked at; it waits, with its stamp.
      const stat = await fs.lstat(onDisk);
      items.set(
        log.name,
        stat.isFile() ? { file, bytes: stat.size, since: stat.mtimeMs } : { file, bytes: 0, since: log.time },
      );
    } catch (error) {
      // Gone meanwhile (uploaded and removed).
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  return items;
}

const P = 'logjam_upload_';
/** The methods logjam-upload sends: HeadBucket/HeadObject, GetObject/ListObjectsV2, PutObject/UploadPart, Create/CompleteMultipartUpload, AbortMultipartUpload. */
const REQUEST_METHODS = ['DELETE', 'GET', 'HEAD', 'POST', 'PUT'];

export interface PassMetrics extends PassMeasure {
  summary: PassSummary | undefined;
}

/** Rewrites the --metrics-file after a pass (counters add up across runs; see core's writeMetricsFile). */
export async function writeUploadMetrics(file: string, pass: PassMetrics): Promise<void> {
  const { summary } = pass;
  // A pass that failed as a whole (bucket, credentials) counts as one failure.
  const failures = (summary?.failed ?? 0) + (!pass.succeeded && pass.ran !== false && !summary?.failed ? 1 : 0);
  await writeMetricsFile(file, [
    ...archiveMetrics(summary, failures),
    ...requestMetrics(summary?.requests),
    ...(await passMetrics(file, P, pass, {
      passes: 'Passes over the archive folder.',
      skippedLocked: 'Runs with --once that did nothing because another logjam-upload held the lock.',
      files: 'Archives not yet uploaded after the last pass.',
      bytes: 'Bytes of the archives not yet uploaded after the last pass.',
      oldestAge: 'Age (since its mtime) of the oldest archive not yet uploaded (0 when none).',
    })),
  ]);
}

/** The counters of archives: uploaded, found already there, sent to a conflict key, failed. */
function archiveMetrics(summary: PassSummary | undefined, failures: number): Metric[] {
  return [
    metric(
      `${P}files_total`,
      'counter',
      'Archives uploaded to S3 (conflict keys included).',
      (summary?.uploaded ?? 0) + (summary?.conflictUploads ?? 0),
    ),
    metric(`${P}bytes_total`, 'counter', 'Bytes uploaded to S3.', summary?.bytes ?? 0),
    metric(
      `${P}already_present_total`,
      'counter',
      'Archives found already in S3 with the same content: marked, not uploaded again.',
      summary?.alreadyThere ?? 0,
    ),
    metric(
      `${P}conflicts_total`,
      'counter',
      'Archives whose key held a different object: they went to a conflict key.',
      summary?.conflicts ?? 0,
    ),
    metric(
      `${P}orphaned_uploads_aborted_total`,
      'counter',
      'Unfinished multipart uploads of earlier runs (a kill) found at the keys written, and aborted.',
      summary?.orphans ?? 0,
    ),
    metric(
      `${P}failures_total`,
      'counter',
      'Archives that failed to upload (or passes that failed as a whole); retried later.',
      failures,
    ),
  ];
}

/** The counters of requests sent to S3: by method, retried, throttled. */
function requestMetrics(requests: PassSummary['requests'] | undefined): Metric[] {
  // Every method S3 is sent, always written: a series that vanished from the file would look like a reset.
  const methods = [...new Set([...REQUEST_METHODS, ...Object.keys(requests?.byMethod ?? {})])];
  return [
    {
      name: `${P}requests_total`,
      type: 'counter',
      help: 'Requests sent to S3, by HTTP method; every attempt counts, retries included.',
      samples: methods.map((method) => ({ labels: { method }, value: requests?.byMethod[method] ?? 0 })),
    },
    metric(
      `${P}retries_total`,
      'counter',
      "Requests that were the AWS SDK's retries of an earlier attempt.",
      requests?.retries ?? 0,
    ),
    metric(
      `${P}throttled_total`,
      'counter',
      'Answers from S3 asking to slow down (503 SlowDown, 429).',
      requests?.throttled ?? 0,
    ),
  ];
}
