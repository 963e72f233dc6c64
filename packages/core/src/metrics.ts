// Metrics for node_exporter's textfile collector: after every pass the file is
// rewritten atomically in the Prometheus text exposition format. Counters are
// carried over from the previous file, so they keep growing across cron runs.
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './fsx.js';
import { checkNotLink } from './held-dir.js';
import type { BacklogItem } from './check.js';
import { errorCode, oneLine } from './errors.js';
import type { Logger } from './log.js';
import type { ErrorReporter } from './report.js';

export interface Metric {
  /** e.g. `logjam_compress_files_total`. */
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  /** One sample per label set; a metric without labels has one sample with `{}`. */
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

function labelText(labels: Record<string, string> = {}): string {
  const entries = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return '';
  const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  return `{${entries.map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;
}

/** The exposition text of a set of metrics. */
export function formatMetrics(metrics: Metric[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${metric.name} ${metric.type}`);
    for (const sample of metric.samples)
      lines.push(`${metric.name}${labelText(sample.labels)} ${formatNumber(sample.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** Sample values by `name{labels}` from an exposition text (our own format: one sample per line). */
export function parseSamples(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1));
    if (!Number.isNaN(value)) samples.set(line.slice(0, space), value);
  }
  return samples;
}

/** Our metrics files are a few kilobytes; a bigger one is not ours and is not read (a link to /dev/zero must not fill memory). */
export const METRICS_FILE_MAX = 1 << 20;

/**
 * The samples of an existing metrics file; empty when there is none, or when
 * it is not a regular file of ours (a link, a FIFO, a device, or bigger than
 * METRICS_FILE_MAX): the next write replaces it by rename. O_NOFOLLOW: a link
 * is not followed; O_NONBLOCK: a FIFO does not block the open (nor the pass).
 */
export async function readMetricsFile(file: string): Promise<Map<string, number>> {
  let handle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ELOOP') return new Map();
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile() || stats.size > METRICS_FILE_MAX) return new Map();
    const buffer = Buffer.alloc(stats.size);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return parseSamples(buffer.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await handle.close();
  }
}

/**
 * Rewrites `file` with `metrics`, adding to each counter what the previous
 * file held for it (a counter must never go down while the host lives).
 */
export async function writeMetricsFile(file: string, metrics: Metric[]): Promise<void> {
  // Its folder is often shared (node_exporter's): a link there is not followed.
  await checkNotLink(path.dirname(file), 'the metrics file');
  const previous = await readMetricsFile(file);
  const merged = metrics.map((metric) =>
    metric.type !== 'counter'
      ? metric
      : {
          ...metric,
          samples: metric.samples.map((s) => ({
            ...s,
            value: s.value + (previous.get(`${metric.name}${labelText(s.labels)}`) ?? 0),
          })),
        },
  );
  await writeFileAtomic(file, formatMetrics(merged));
}

/** A metric with one sample and no labels. */
export function metric(name: string, type: Metric['type'], help: string, value: number): Metric {
  return { name, type, help, samples: [{ value }] };
}

export interface PassMeasure {
  /** Whether the pass as a whole succeeded. */
  succeeded: boolean;
  /** Directories (or runs) a --once run skipped because another instance held the lock: counted, not a pass of their own. */
  skippedLocked?: number;
  /** False for a --once run that did nothing at all (the lock was held): no pass, and the last success stays. */
  ran?: boolean;
  durationMs: number;
  /** What still waits after the pass. */
  backlog: BacklogItem[];
  now: number;
}

/** The help texts of the backlog gauges: what waits, in each tool's words. */
export interface BacklogHelp {
  passes: string;
  skippedLocked: string;
  files: string;
  bytes: string;
  oldestAge: string;
}

/**
 * The metrics every tool writes after a pass, after its own counters: passes,
 * the pass's duration, the backlog, and when a pass last succeeded (carried
 * over from the previous file while passes fail).
 */
export async function passMetrics(
  file: string,
  prefix: string,
  pass: PassMeasure,
  help: BacklogHelp,
): Promise<Metric[]> {
  const { backlog, now } = pass;
  const ran = pass.ran ?? true;
  const lastSuccess =
    pass.succeeded && ran
      ? now / 1000
      : ((await readMetricsFile(file)).get(`${prefix}last_success_timestamp_seconds`) ?? 0);
  const oldest = backlog.reduce((min, item) => Math.min(min, item.since), Infinity);
  return [
    metric(`${prefix}passes_total`, 'counter', help.passes, ran ? 1 : 0),
    // A lock that never goes away must not stop the work unnoticed.
    metric(`${prefix}skipped_locked_total`, 'counter', help.skippedLocked, pass.skippedLocked ?? 0),
    metric(`${prefix}pass_duration_seconds`, 'gauge', 'Duration of the last pass.', pass.durationMs / 1000),
    metric(`${prefix}backlog_files`, 'gauge', help.files, backlog.length),
    metric(
      `${prefix}backlog_bytes`,
      'gauge',
      help.bytes,
      backlog.reduce((sum, item) => sum + item.bytes, 0),
    ),
    metric(
      `${prefix}backlog_oldest_age_seconds`,
      'gauge',
      help.oldestAge,
      backlog.length ? Math.max(0, (now - oldest) / 1000) : 0,
    ),
    metric(
      `${prefix}last_success_timestamp_seconds`,
      'gauge',
      'When the last pass without any failure ended (Unix time; 0 if none yet).',
      lastSuccess,
    ),
  ];
}

export interface PassMetricsWriter<R> {
  /** --metrics-file; nothing is written without it. */
  file: string | undefined;
  /** Writes the file after a pass: `result` is undefined when the pass threw. */
  write(file: string, result: R | undefined, durationMs: number): Promise<void>;
  log: Logger;
  reporter?: ErrorReporter | undefined;
}

/** Runs one pass, then rewrites the metrics file; trouble with monitoring never fails the pass: it is said, and reported. */
export async function withPassMetrics<R>(pass: () => Promise<R>, metrics: PassMetricsWriter<R>): Promise<R> {
  const started = Date.now();
  let result: R | undefined;
  try {
    result = await pass();
    return result;
  } finally {
    const file = metrics.file;
    if (file !== undefined) {
      try {
        await metrics.write(file, result, Date.now() - started);
      } catch (error) {
        metrics.log.error(`cannot write the metrics file ${file}: ${oneLine(error)}`);
        metrics.reporter?.capture(error, { file });
      }
    }
  }
}
