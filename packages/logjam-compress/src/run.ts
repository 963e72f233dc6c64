// One pass over the log directories: scan, select what is due, compress up to
// `jobs` files at once, and say when the next file becomes due.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { errorCode, formatBytes, oneLine, parseLogName, type ErrorReporter, type Logger, type PassResult, type Progress } from '@logjam/core';
import { ARCHIVE_DIR, compressFile } from './compress.js';
import { selectDue, type Candidate } from './select.js';

export interface PassOptions {
  dirs: string[];
  level: number;
  verify: boolean;
  minAgeMs: number;
  jobs: number;
  log: Logger;
  /** In service mode, a pass where nothing happened logs its summary at debug, not info. */
  quietWhenIdle?: boolean;
  now?: () => number;
  /** Errors that fail a file or a directory go there too (Sentry), tagged with the directory and the file. */
  reporter?: ErrorReporter;
  /** The progress bar of a --once pass at a terminal. */
  progress?: Progress;
}

/** The regular files of `dir` whose names parse as log files, with their sizes (bytes) by name. */
export async function listCandidates(dir: string): Promise<{ candidates: Candidate[]; sizes: Map<string, number> }> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  const candidates: Candidate[] = [];
  const sizes = new Map<string, number>();
  for (const entry of entries) {
    if (!entry.isFile()) continue; // Dirent types come from lstat: symbolic links are not files here.
    const parsed = parseLogName(entry.name);
    if (!parsed) continue;
    let stats;
    try {
      stats = await fs.lstat(path.join(dir, entry.name));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') continue;
      throw error;
    }
    if (!stats.isFile()) continue;
    candidates.push({ log: parsed, mtimeMs: stats.mtimeMs });
    sizes.set(entry.name, stats.size);
  }
  return { candidates, sizes };
}

/** The regular files of `dir` whose names parse as log files (never symlinks, directories or archive/). */
export async function scanDir(dir: string, now: number, minAgeMs: number, log: Logger) {
  const { candidates, sizes } = await listCandidates(dir);
  const selection = selectDue(candidates, { now, minAgeMs });
  for (const w of selection.waiting) {
    if (w.reason === 'grace') log.info('closed, but modified too recently: left for a later pass', { file: path.join(dir, w.log.name), dueAt: new Date(w.dueAt).toISOString() });
    else log.debug('still open', { file: path.join(dir, w.log.name), closesAt: new Date(w.dueAt).toISOString() });
  }
  return { ...selection, sizes };
}

/** Creates archive/ if missing; an archive/ that is something else than a directory is an error. */
export async function ensureArchiveDir(dir: string): Promise<string> {
  const archiveDir = path.join(dir, ARCHIVE_DIR);
  try {
    await fs.mkdir(archiveDir, { mode: 0o755 });
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  }
  const stats = await fs.stat(archiveDir);
  if (!stats.isDirectory()) throw new Error(`${archiveDir} exists but is not a directory: move it away`);
  return archiveDir;
}

export interface Tally {
  compressed: number;
  alreadyArchived: number;
  duplicates: number;
  changed: number;
  failed: number;
  waiting: number;
  bytesIn: number;
  bytesOut: number;
}

export async function runPass(options: PassOptions, signal: AbortSignal): Promise<PassResult & { tally: Tally }> {
  const { log } = options;
  const now = (options.now ?? Date.now)();
  const tally: Tally = { compressed: 0, alreadyArchived: 0, duplicates: 0, changed: 0, failed: 0, waiting: 0, bytesIn: 0, bytesOut: 0 };
  let nextDueAt: number | undefined;
  const work: Array<{ dir: string; name: string; bytes: number }> = [];

  for (const dir of options.dirs) {
    try {
      await ensureArchiveDir(dir);
      const selection = await scanDir(dir, now, options.minAgeMs, log);
      tally.waiting += selection.waiting.length;
      if (selection.nextDueAt !== undefined) nextDueAt = Math.min(nextDueAt ?? Infinity, selection.nextDueAt);
      for (const c of selection.due) work.push({ dir, name: c.log.name, bytes: selection.sizes.get(c.log.name) ?? 0 });
    } catch (error) {
      tally.failed += 1;
      log.error(`cannot scan ${dir}: ${oneLine(error)}`, { dir });
      options.reporter?.capture(error, { directory: dir });
    }
  }
  options.progress?.addTotal(work.length, work.reduce((sum, w) => sum + w.bytes, 0));

  await eachLimit(work, options.jobs, signal, async ({ dir, name, bytes }) => {
    const file = path.join(dir, name);
    try {
      const outcome = await compressFile(dir, name, { level: options.level, verify: options.verify, log, signal });
      switch (outcome.kind) {
        case 'compressed': {
          tally.compressed += 1;
          if (outcome.duplicate) tally.duplicates += 1;
          tally.bytesIn += outcome.bytesIn;
          tally.bytesOut += outcome.bytesOut;
          const ratio = outcome.bytesIn === 0 ? 1 : outcome.bytesOut / outcome.bytesIn;
          log.info(`compressed ${formatBytes(outcome.bytesIn)} -> ${formatBytes(outcome.bytesOut)} (${(ratio * 100).toFixed(1)}%)`, {
            file,
            archive: path.join(dir, outcome.archive),
            bytesIn: outcome.bytesIn,
            bytesOut: outcome.bytesOut,
            ratio: Number(ratio.toFixed(4)),
            ms: outcome.ms,
          });
          break;
        }
        case 'already-archived':
          tally.alreadyArchived += 1;
          break;
        case 'changed':
          tally.changed += 1;
          // Tried again once its grace period has passed, not only at the next rescan.
          nextDueAt = Math.min(nextDueAt ?? Infinity, Date.now() + Math.max(options.minAgeMs, 1000));
          log.warn(`${file} changed while being compressed; kept it, and will try again on a later pass`, { file, detail: outcome.detail });
          break;
        case 'gone':
          log.debug('disappeared before it could be compressed', { file });
          break;
        case 'aborted':
          log.info('stopping: rolled back the compression in progress; the source is kept', { file });
          break;
      }
    } catch (error) {
      tally.failed += 1;
      const fix = remedy(error, dir, file);
      log.error(`failed to compress ${file}: ${oneLine(error)}${fix ? `; ${fix}` : ''}`, { file });
      options.reporter?.capture(error, { directory: dir, file: name });
    }
    options.progress?.advance(bytes);
  });
  options.progress?.done();

  const idle = tally.compressed + tally.alreadyArchived + tally.changed + tally.failed === 0;
  const summary = options.quietWhenIdle && idle ? log.debug : log.info;
  summary('pass done', {
    compressed: tally.compressed,
    alreadyArchived: tally.alreadyArchived,
    duplicates: tally.duplicates,
    changed: tally.changed,
    failed: tally.failed,
    waiting: tally.waiting,
    bytesIn: tally.bytesIn,
    bytesOut: tally.bytesOut,
  });
  return { exitCode: tally.failed > 0 ? 1 : 0, nextDueAt, tally };
}

/** What the user can do about a file system error, naming the place; undefined when there is nothing to say. */
export function remedy(error: unknown, dir: string, file: string): string | undefined {
  const code = errorCode(error);
  const archiveDir = path.join(dir, ARCHIVE_DIR);
  const where = (error as { path?: unknown } | null)?.path;
  const inArchive = typeof where === 'string' && path.dirname(where) === archiveDir;
  const user = `uid ${process.getuid?.() ?? '?'}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left for ${archiveDir}: free some space there; the source is kept and is compressed again on the next pass`;
    case 'ENAMETOOLONG':
      return `its archive name (the name plus .gz, or a duplicate-timestamp name) is longer than the file system allows: give ${file} a shorter name; it is kept`;
    case 'EROFS':
      return `${inArchive ? archiveDir : dir} is on a read-only file system; the source is kept`;
    case 'EACCES':
    case 'EPERM':
      if (inArchive) return `${archiveDir} is not writable by this user (${user}): make it writable (chown it to this user), or run logjam-compress as the user that owns the logs; the source is kept`;
      if (where === file) return `${file} is not readable by this user (${user}): run logjam-compress as the user that writes the logs (or root), or make the file readable; it is kept`;
      return `permission denied (${user}): run logjam-compress as the user that owns ${dir}`;
    default:
      return undefined;
  }
}

/** Runs `fn` over `items`, at most `limit` at once; starts nothing new once `signal` aborts. */
export async function eachLimit<T>(items: readonly T[], limit: number, signal: AbortSignal, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length && !signal.aborted) {
      const item = items[next]!;
      next += 1;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}
