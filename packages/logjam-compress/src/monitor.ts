// What monitoring sees: the backlog (--check, and the backlog gauges of
// --metrics-file) and the metrics written after every pass.
import path from 'node:path';
import { groupLogNames, readMetricsFile, writeMetricsFile, type BacklogItem, type Metric } from '@logjam/core';
import { listCandidates, type Tally } from './run.js';
import { CLOSE_AFTER_MS, selectDue } from './select.js';

/**
 * The files due for compression now (closed, past their grace period), each
 * with the instant it became due: the later of when it closed (65 minutes after
 * its stamp, or the stamp of the next file of its group if that came first)
 * and the end of its grace period (mtime + min-age). Touches nothing.
 */
export async function compressBacklog(dirs: string[], now: number, minAgeMs: number): Promise<BacklogItem[]> {
  const items: BacklogItem[] = [];
  for (const dir of dirs) {
    const { candidates, sizes } = await listCandidates(dir);
    const closedAt = new Map<string, number>();
    for (const group of groupLogNames(candidates.map((c) => c.log)).values()) {
      for (const log of group) {
        const next = group.find((other) => other.time > log.time);
        closedAt.set(log.name, Math.min(log.time + CLOSE_AFTER_MS, next?.time ?? Infinity));
      }
    }
    for (const c of selectDue(candidates, { now, minAgeMs }).due) {
      const since = Math.max(closedAt.get(c.log.name) ?? now, minAgeMs > 0 ? c.mtimeMs + minAgeMs : -Infinity);
      items.push({ file: path.join(dir, c.log.name), bytes: sizes.get(c.log.name) ?? 0, since: Math.min(since, now) });
    }
  }
  return items;
}

const P = 'logjam_compress_';

/** Rewrites the --metrics-file after a pass (counters add up across runs; see core's writeMetricsFile). */
export async function writeCompressMetrics(file: string, pass: { tally: Tally; durationMs: number; backlog: BacklogItem[]; now: number }): Promise<void> {
  const { tally, backlog, now } = pass;
  const succeeded = tally.failed === 0;
  const lastSuccess = succeeded ? now / 1000 : ((await readMetricsFile(file)).get(`${P}last_success_timestamp_seconds`) ?? 0);
  const oldest = backlog.reduce((min, item) => Math.min(min, item.since), Infinity);
  const one = (name: string, type: Metric['type'], help: string, value: number): Metric => ({ name: `${P}${name}`, type, help, samples: [{ value }] });
  await writeMetricsFile(file, [
    one('files_total', 'counter', 'Log files compressed into archive/.', tally.compressed),
    one('already_archived_total', 'counter', 'Log files deleted because archive/ already held exactly their content.', tally.alreadyArchived),
    one('duplicate_names_total', 'counter', 'Log files archived under a duplicate-timestamp name.', tally.duplicates),
    one('bytes_in_total', 'counter', 'Bytes of log files compressed.', tally.bytesIn),
    one('bytes_out_total', 'counter', 'Bytes of archives written.', tally.bytesOut),
    one('failures_total', 'counter', 'Log files (or directories) that failed; the sources are kept.', tally.failed),
    one('passes_total', 'counter', 'Passes over the log directories.', 1),
    one('pass_duration_seconds', 'gauge', 'Duration of the last pass.', pass.durationMs / 1000),
    one('backlog_files', 'gauge', 'Log files due for compression after the last pass.', backlog.length),
    one('backlog_bytes', 'gauge', 'Bytes of the log files due for compression after the last pass.', backlog.reduce((sum, item) => sum + item.bytes, 0)),
    one('backlog_oldest_age_seconds', 'gauge', 'How long the oldest file due for compression has been due (0 when none).', backlog.length ? Math.max(0, (now - oldest) / 1000) : 0),
    one('last_success_timestamp_seconds', 'gauge', 'When the last pass without any failure ended (Unix time; 0 if none yet).', lastSuccess),
  ]);
}
