// What monitoring sees: the backlog (--check, and the backlog gauges of
// --metrics-file) and the metrics written after every pass.
import path from 'node:path';
import { displayName, groupLogNames, metric, passMetrics, writeMetricsFile, type BacklogItem } from '@logjam/core';
import { listCandidates } from './scan.js';
import type { Tally } from './pass.js';
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
      items.push({
        file: path.join(dir, displayName(c.log.name)),
        bytes: sizes.get(c.log.name) ?? 0,
        since: Math.min(since, now),
      });
    }
  }
  return items;
}

/** The files of `dirs` whose names look like dated logs but are outside the grammar, with why (--check lists them). */
export async function compressIgnored(dirs: string[]): Promise<Array<{ file: string; reason: string }>> {
  const found: Array<{ file: string; reason: string }> = [];
  for (const dir of dirs)
    for (const { name, reason } of (await listCandidates(dir)).ignored)
      found.push({ file: path.join(dir, displayName(name)), reason });
  return found;
}

const P = 'logjam_compress_';

/** Rewrites the --metrics-file after a pass (counters add up across runs; see core's writeMetricsFile). */
export async function writeCompressMetrics(
  file: string,
  pass: {
    tally: Tally;
    skippedLocked?: number;
    /** Directories left out at start (configuration errors). */ configErrors?: number;
    durationMs: number;
    backlog: BacklogItem[];
    now: number;
  },
): Promise<void> {
  const { tally } = pass;
  const failures = tally.failed + tally.configErrors + (pass.configErrors ?? 0);
  await writeMetricsFile(file, [
    metric(`${P}files_total`, 'counter', 'Log files compressed into archive/.', tally.compressed),
    metric(
      `${P}already_archived_total`,
      'counter',
      'Log files deleted because archive/ already held exactly their content.',
      tally.alreadyArchived,
    ),
    metric(
      `${P}duplicate_names_total`,
      'counter',
      'Log files archived under a duplicate-timestamp name.',
      tally.duplicates,
    ),
    metric(`${P}bytes_in_total`, 'counter', 'Bytes of log files compressed.', tally.bytesIn),
    metric(`${P}bytes_out_total`, 'counter', 'Bytes of archives written.', tally.bytesOut),
    metric(`${P}failures_total`, 'counter', 'Log files (or directories) that failed; the sources are kept.', failures),
    ...(await passMetrics(
      file,
      P,
      { ...pass, succeeded: failures === 0 },
      {
        passes: 'Passes over the log directories.',
        skippedLocked: 'Directories a --once run skipped because another logjam-compress held their lock.',
        files: 'Log files due for compression after the last pass.',
        bytes: 'Bytes of the log files due for compression after the last pass.',
        oldestAge: 'How long the oldest file due for compression has been due (0 when none).',
      },
    )),
  ]);
}
