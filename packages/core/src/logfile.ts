// The log file name grammar, exactly as the Python logjam's parse.py:
//   PREFIX-STAMP[-SUFFIX].EXTENSION
// PREFIX is greedy (it may hold dashes and even an earlier stamp), STAMP is
// YYYY[-]MM[-]DDTHH[:]MMZ in UTC, SUFFIX runs to the first dot, EXTENSION is
// everything from that dot on (".log", ".log.gz"). Pure: no I/O here.

export interface LogName {
  /** The whole file name, as found on disk. */
  readonly name: string;
  readonly prefix: string;
  /** The stamp as written in the name (may carry dashes and a colon). */
  readonly stampText: string;
  /** The stamp in its compact form, YYYYMMDDTHHMMZ. */
  readonly stamp: string;
  /** The stamp as a UTC instant, in milliseconds since the epoch. */
  readonly time: number;
  readonly year: string;
  readonly month: string;
  readonly day: string;
  readonly hour: string;
  readonly minute: string;
  /** The part after the stamp, without its leading dash; '' when there is none. */
  readonly suffix: string;
  /** From the first dot after the stamp (or suffix) to the end, dot included. */
  readonly extension: string;
}

// `.` never matches a line break, so a name holding one is never a log file;
// the suffix's class excludes them too (a bare [^.] would let one through).
const LOG_NAME = /^(.+)-((\d{4})-?(\d\d)-?(\d\d)T(\d\d):?(\d\d)Z)(?:-([^.\n\r\u2028\u2029]+))?(\..+)$/;

/**
 * Hidden, temporary and backup files are never log files, whatever their
 * name holds: a dot name (an editor's `.app-….log.swp`, our own temp files),
 * `*.tmp`, `*~`. logjam-upload has always skipped them; logjam-compress must
 * too, or it would archive a file that is then never uploaded.
 */
export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('~');
}

/** Parses a file name; null when it is not a log file (and must be left alone). */
export function parseLogName(name: string): LogName | null {
  if (isIgnoredName(name)) return null;
  const m = LOG_NAME.exec(name);
  if (!m) return null;
  const [, prefix, stampText, year, month, day, hour, minute, suffix, extension] = m as unknown as string[];
  const time = utcTime(Number(year), Number(month), Number(day), Number(hour), Number(minute));
  if (time === null) return null;
  return {
    name,
    prefix: prefix!,
    stampText: stampText!,
    stamp: `${year}${month}${day}T${hour}${minute}Z`,
    time,
    year: year!,
    month: month!,
    day: day!,
    hour: hour!,
    minute: minute!,
    suffix: suffix ?? '',
    extension: extension!,
  };
}

/** The UTC instant of a calendar date and time, or null when no such moment exists (31 February, hour 24). */
function utcTime(year: number, month: number, day: number, hour: number, minute: number): number | null {
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59) return null;
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute));
  // Date.UTC treats years 0-99 as 1900-1999; setUTCFullYear does not.
  d.setUTCFullYear(year);
  if (d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return d.getTime();
}

/** Builds a name from its parts, the stamp in compact form, as the Python tool's unparse_filename. */
export function formatLogName(parts: { prefix: string; stamp: string; suffix: string; extension: string }): string {
  return `${parts.prefix}-${parts.stamp}${parts.suffix ? `-${parts.suffix}` : ''}${parts.extension}`;
}

/** Files of one group are successive periods of the same log: same prefix, suffix and extension. */
export function groupKey(log: LogName): string {
  return JSON.stringify([log.prefix, log.suffix, log.extension]);
}

/** Orders by stamp, then by name so that the order is total and stable. */
export function compareLogNames(a: LogName, b: LogName): number {
  return a.time - b.time || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** Groups log names by (prefix, suffix, extension), each group ordered by stamp. */
export function groupLogNames(logs: Iterable<LogName>): Map<string, LogName[]> {
  const groups = new Map<string, LogName[]>();
  for (const log of logs) {
    const key = groupKey(log);
    const group = groups.get(key);
    if (group) group.push(log);
    else groups.set(key, [log]);
  }
  for (const group of groups.values()) group.sort(compareLogNames);
  return groups;
}
