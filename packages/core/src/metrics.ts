// Metrics for node_exporter's textfile collector: after every pass the file is
// rewritten atomically in the Prometheus text exposition format. Counters are
// carried over from the previous file, so they keep growing across cron runs.
import { promises as fs } from 'node:fs';
import { errorCode } from './errors.js';
import { writeFileAtomic } from './fsx.js';

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
    for (const sample of metric.samples) lines.push(`${metric.name}${labelText(sample.labels)} ${formatNumber(sample.value)}`);
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

/**
 * Rewrites `file` with `metrics`, adding to each counter what the previous
 * file held for it (a counter must never go down while the host lives).
 */
export async function writeMetricsFile(file: string, metrics: Metric[]): Promise<void> {
  let previous = new Map<string, number>();
  try {
    previous = parseSamples(await fs.readFile(file, 'utf8'));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const merged = metrics.map((metric) =>
    metric.type !== 'counter'
      ? metric
      : {
          ...metric,
          samples: metric.samples.map((s) => ({ ...s, value: s.value + (previous.get(`${metric.name}${labelText(s.labels)}`) ?? 0) })),
        },
  );
  await writeFileAtomic(file, formatMetrics(merged));
}
