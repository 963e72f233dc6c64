// --check: what is waiting, and how long the oldest has waited, as a
// Nagios / Sensu check prints it: one status line (with performance data
// after `|`), then details; exit 0 when the oldest is younger than the limit,
// 1 when older (a usage or configuration error is 3, UNKNOWN: see cli.ts). Pure: the binaries find the items, this words the verdict.
import { formatBytes } from './log.js';

export interface BacklogItem {
  /** The file's path. */
  file: string;
  bytes: number;
  /** When it became due (epoch ms): its age is counted from there. */
  since: number;
}

export interface CheckResult {
  /** 0 (OK) or 1 (WARNING: the oldest item is older than the limit). */
  code: 0 | 1;
  /** Lines for stdout, the status line first, each ending with a newline. */
  text: string;
}

/** 40s, 12m, 2h, 3h05m, 1d, 2d04h. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${String(m % 60).padStart(2, '0')}m` : `${h}h`;
  return h % 24 ? `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h` : `${Math.floor(h / 24)}d`;
}

/** The oldest first (by `since`). */
export function sortBacklog(items: BacklogItem[]): BacklogItem[] {
  return [...items].sort((a, b) => a.since - b.since || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

export interface CheckOptions {
  now: number;
  maxAgeMs: number;
  /** What the items wait for, e.g. `waiting for compression`. */
  waitingFor: string;
  /** How many of the oldest items to list under the status line. */
  show?: number;
  /** This host's --splay delay: an item waits that long on purpose before it is due, so it is late only past --max-age plus this. */
  splayMs?: number;
  /** Files that look like dated logs but are outside the grammar: never due, so listed with why. */
  ignored?: Array<{ file: string; reason: string }>;
}

export function checkBacklog(items: BacklogItem[], options: CheckOptions): CheckResult {
  const sorted = sortBacklog(items);
  const bytes = sorted.reduce((sum, item) => sum + item.bytes, 0);
  const oldest = sorted[0];
  const ageMs = oldest ? Math.max(0, options.now - oldest.since) : 0;
  const splayMs = options.splayMs ?? 0;
  const late = ageMs > options.maxAgeMs + splayMs;
  const limit = `--max-age ${formatAge(options.maxAgeMs)}${splayMs > 0 ? ` + splay ${formatAge(splayMs)}` : ''}`;
  // Nagios performance data, label=value[unit];warn: the limit sits in the warning slot, as the status it leads to is WARNING.
  const perf = `files=${sorted.length} bytes=${bytes}B oldest_age=${Math.floor(ageMs / 1000)}s;${Math.floor((options.maxAgeMs + splayMs) / 1000)}`;
  const count = `${sorted.length} file${sorted.length === 1 ? '' : 's'}`;
  const status = oldest
    ? `${late ? 'WARNING' : 'OK'}: ${count} ${options.waitingFor} (${formatBytes(bytes)}), oldest ${formatAge(ageMs)}${late ? ` > ${limit}` : ''} (${oldest.file})`
    : `OK: nothing ${options.waitingFor}`;
  const ignored = options.ignored ?? [];
  const left = ignored.length
    ? `; ${ignored.length} file${ignored.length === 1 ? '' : 's'} ignored: name${ignored.length === 1 ? '' : 's'} outside the log file grammar`
    : '';
  const lines = [`${status}${left} | ${perf}${options.ignored ? ` ignored=${ignored.length}` : ''}`];
  for (const item of sorted.slice(0, options.show ?? 10))
    lines.push(
      `${formatAge(options.now - item.since).padStart(7)} ${formatBytes(item.bytes).padStart(9)}  ${item.file}`,
    );
  if (sorted.length > (options.show ?? 10)) lines.push(`and ${sorted.length - (options.show ?? 10)} more`);
  for (const { file, reason } of ignored.slice(0, options.show ?? 10)) lines.push(`ignored: ${file}: ${reason}`);
  if (ignored.length > (options.show ?? 10)) lines.push(`and ${ignored.length - (options.show ?? 10)} more ignored`);
  return { code: late ? 1 : 0, text: lines.map((line) => `${line}\n`).join('') };
}
