// What monitoring sees: the archives waiting for upload (--check, and the
// backlog gauges of --metrics-file) and the metrics written after every pass.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode, readMetricsFile, writeMetricsFile, type BacklogItem, type Metric } from '@logjam/core';
import { listPending } from './ledger.js';
import type { PassSummary } from './upload.js';

/**
 * Archives without a marker, each with the instant it became due: its mtime,
 * which logjam-compress carries over from the log file (the time of its last
 * line). No network, touches nothing.
 */
export async function uploadBacklog(archiveDir: string): Promise<BacklogItem[]> {
  const items: BacklogItem[] = [];
  for (const log of await listPending(archiveDir)) {
    const file = path.join(archiveDir, log.name);
    try {
      const stat = await fs.stat(file);
      items.push({ file, bytes: stat.size, since: stat.mtimeMs });
    } catch (error) {
      // Gone meanwhile (uploaded and removed); a dangling link still waits, with its stamp.
      if (errorCode(error) !== 'ENOENT') throw error;
      if (await fs.lstat(file).catch(() => null)) items.push({ file, bytes: 0, since: log.time });
    }
  }
  return items;
}

const P = 'logjam_upload_';

export interface PassMetrics {
  summary: PassSummary | undefined;
  /** Whether the pass as a whole succeeded (exit code 0). */
  succeeded: boolean;
  durationMs: number;
  backlog: BacklogItem[];
  now: number;
}

/** Rewrites the --metrics-file after a pass (counters add up across runs; see core's writeMetricsFile). */
export async function writeUploadMetrics(file: string, pass: PassMetrics): Promise<void> {
  const { summary, backlog, now } = pass;
  const lastSuccess = pass.succeeded ? now / 1000 : ((await readMetricsFile(file)).get(`${P}last_success_timestamp_seconds`) ?? 0);
  // A pass that failed as a whole (bucket, credentials) counts as one failure.
  const failures = (summary?.failed ?? 0) + (!pass.succeeded && !summary?.failed ? 1 : 0);
  const oldest = backlog.reduce((min, item) => Math.min(min, item.since), Infinity);
  const one = (name: string, type: Metric['type'], help: string, value: number): Metric => ({ name: `${P}${name}`, type, help, samples: [{ value }] });
  await writeMetricsFile(file, [
    one('files_total', 'counter', 'Archives uploaded to S3 (conflict keys included).', summary?.uploaded ?? 0),
    one('bytes_total', 'counter', 'Bytes uploaded to S3.', summary?.bytes ?? 0),
    one('already_present_total', 'counter', 'Archives found already in S3 with the same content: marked, not uploaded again.', summary?.alreadyThere ?? 0),
    one('conflicts_total', 'counter', 'Archives whose key held a different object: they went to a conflict key.', summary?.conflicts ?? 0),
    one('failures_total', 'counter', 'Archives that failed to upload (or passes that failed as a whole); retried later.', failures),
    one('passes_total', 'counter', 'Passes over the archive folder.', 1),
    one('pass_duration_seconds', 'gauge', 'Duration of the last pass.', pass.durationMs / 1000),
    one('backlog_files', 'gauge', 'Archives not yet uploaded after the last pass.', backlog.length),
    one('backlog_bytes', 'gauge', 'Bytes of the archives not yet uploaded after the last pass.', backlog.reduce((sum, item) => sum + item.bytes, 0)),
    one('backlog_oldest_age_seconds', 'gauge', 'Age (since its mtime) of the oldest archive not yet uploaded (0 when none).', backlog.length ? Math.max(0, (now - oldest) / 1000) : 0),
    one('last_success_timestamp_seconds', 'gauge', 'When the last pass without any failure ended (Unix time; 0 if none yet).', lastSuccess),
  ]);
}
