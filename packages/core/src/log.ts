// One line per event on stderr (never stdout): text for people, JSON for machines.
import { showPaths } from './held-dir.js';
import { displayName } from './rawname.js';

// The Python logjam's level names (`warning`, `critical`) are accepted beside
// logjam's own, so that its command lines keep working; `warning` is `warn`.
export const LOG_LEVELS = ['debug', 'info', 'warn', 'warning', 'error', 'critical'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export type LogLevel = Exclude<LogLevelName, 'warning'>;
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  readonly level: LogLevel;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Only for what ends the run: the one message still printed at level critical. */
  critical(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** The binary's name, on every line. */
  name: string;
  level?: LogLevelName;
  format?: LogFormat;
  /** Where lines go; stderr unless a test says otherwise. */
  write?: (line: string) => void;
  now?: () => Date;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, critical: 50 };

export function logLevel(name: LogLevelName): LogLevel {
  return name === 'warning' ? 'warn' : name;
}

export function createLogger(options: LoggerOptions): Logger {
  const level = logLevel(options.level ?? 'info');
  const format = options.format ?? 'text';
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const now = options.now ?? (() => new Date());

  const emit = (at: LogLevel, text: string, given: LogFields = {}) => {
    if (RANK[at] < RANK[level]) return;
    // Paths through a held directory's descriptor are shown by the directory's
    // name, and a file name that is not UTF-8 shows its odd bytes as %XX, as in its S3 key.
    const shown = (value: string) => showPaths(displayName(value));
    const message = shown(text);
    const fields: LogFields = {};
    for (const [key, value] of Object.entries(given)) fields[key] = typeof value === 'string' ? shown(value) : value;
    const time = now().toISOString();
    if (format === 'json') {
      const record: Record<string, unknown> = { time, level: at, name: options.name, msg: message };
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) record[key] = value;
      write(`${JSON.stringify(record)}\n`);
      return;
    }
    const rest = Object.entries(fields)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${formatValue(value)}`)
      .join(' ');
    write(`${time} ${options.name} ${at.toUpperCase()} ${escapeControls(message)}${rest ? ` ${rest}` : ''}\n`);
  };

  return {
    level,
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    critical: (message, fields) => emit('critical', message, fields),
  };
}

// Values with spaces, quotes or control characters are quoted (JSON) so that a line stays parseable by eye and by awk.
// eslint-disable-next-line no-control-regex
const NEEDS_QUOTES = /[\s"=\u0000-\u001f\u007f]/;
function formatValue(value: string | number | boolean | null | undefined): string {
  const text = String(value);
  return NEEDS_QUOTES.test(text) || text === '' ? escapeControls(JSON.stringify(text)) : text;
}

/**
 * Control characters (a file name may hold ESC, which a terminal would obey) as
 * JSON escapes them, \u001b, and DEL as \u007f, so that a text line cannot
 * rewrite the terminal or forge another line. Pure.
 */
export function escapeControls(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\u007f' ? '\\u007f' : JSON.stringify(c).slice(1, -1)));
}

/**
 * Human-readable byte counts for log lines: 1.50 MiB, 312.0 KiB, 17 B. Binary
 * units, as the size options take them (--part-size 8M is 8 MiB) and as the docs write sizes.
 */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}
