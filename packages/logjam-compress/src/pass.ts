// One pass over the log directories: scan, select what is due, compress up to
// `jobs` files at once, and say when the next file becomes due.
import path from 'node:path';
import {
  ConfigError,
  eachLimit,
  formatBytes,
  oneLine,
  passExitCode,
  type ErrorReporter,
  type HeldDir,
  type Logger,
  type PassResult,
  type Progress,
} from '@logjam/core';
import { compressFile, ensureArchiveDir, type Outcome } from './compress.js';
import { remedy } from './remedy.js';
import type { ArchiveFormat } from './archive-format.js';
import { BlockPool } from './block-pool.js';
import { zstdWorkers } from './zstd-frame.js';
import { scanDir } from './scan.js';

export interface PassOptions {
  dirs: string[];
  level: number;
  /** Default: gzip. */
  format?: ArchiveFormat | undefined;
  verify: boolean;
  minAgeMs: number;
  jobs: number;
  log: Logger;
  /** In service mode, a pass where nothing happened logs its summary at debug, not info. */
  quietWhenIdle?: boolean;
  /** Directories left out at start for a configuration error: counted in this pass's summary. */
  configErrorsAtStart?: number;
  now?: () => number;
  /** Errors that fail a file or a directory go there too (Sentry), tagged with the directory and the file. */
  reporter?: ErrorReporter | undefined;
  /** The progress bar of a --once pass at a terminal. */
  progress?: Progress | undefined;
}

export interface Tally {
  compressed: number;
  alreadyArchived: number;
  duplicates: number;
  changed: number;
  failed: number;
  /** Directories stopped by a configuration problem: archive/ a link, or swapped during the pass. */
  configErrors: number;
  waiting: number;
  /** Files whose names look like dated logs but are outside the grammar: left alone. */
  ignored: number;
  bytesIn: number;
  bytesOut: number;
}

/** A file due for compression. */
interface Work {
  dir: string;
  name: string;
  bytes: number;
}

export async function compressPass(options: PassOptions, signal: AbortSignal): Promise<PassResult & { tally: Tally }> {
  const now = (options.now ?? Date.now)();
  const tally: Tally = {
    compressed: 0,
    alreadyArchived: 0,
    duplicates: 0,
    changed: 0,
    failed: 0,
    configErrors: options.configErrorsAtStart ?? 0,
    waiting: 0,
    ignored: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  /** Each archive/ is held open for the pass (see core's held-dir). */
  const held = new Map<string, HeldDir>();
  try {
    return await passOver(options, signal, now, tally, held);
  } finally {
    await Promise.all([...held.values()].map((dir) => dir.close()));
  }
}

/** A configuration problem stops its directory, said on one line, rather than failing its files one by one. */
function configError(error: ConfigError, dir: string, tally: Tally, options: PassOptions): void {
  tally.configErrors += 1;
  options.log.error(oneLine(error), { dir });
  options.reporter?.capture(error, { directory: dir });
}

async function passOver(
  options: PassOptions,
  signal: AbortSignal,
  now: number,
  tally: Tally,
  held: Map<string, HeldDir>,
): Promise<PassResult & { tally: Tally }> {
  const { log } = options;
  const due = await scanDirs(options, now, tally, held);
  let nextDueAt = due.nextDueAt;
  options.progress?.addTotal(
    due.work.length,
    due.work.reduce((sum, w) => sum + w.bytes, 0),
  );

  // The files in flight share the cores and a bounded number of blocks in memory.
  const pool = new BlockPool(options.jobs);
  const workers = zstdWorkers(options.jobs, due.work.length);
  const stopped = new Set<string>();
  await eachLimit(due.work, options.jobs, signal, async ({ dir, name, bytes }) => {
    const file = path.join(dir, name);
    if (stopped.has(dir)) return;
    try {
      const outcome = await compressFile(dir, name, {
        level: options.level,
        format: options.format,
        workers,
        verify: options.verify,
        log,
        signal,
        pool,
        archive: held.get(dir)!,
      });
      // Changed: tried again once its grace period has passed, not only at the next rescan.
      if (outcome.kind === 'changed')
        nextDueAt = Math.min(nextDueAt ?? Infinity, Date.now() + Math.max(options.minAgeMs, 1000));
      countOutcome(outcome, file, dir, tally, log);
    } catch (error) {
      if (error instanceof ConfigError) {
        // archive/ was swapped during the pass: its other files wait for the next one.
        if (!stopped.has(dir)) configError(error, dir, tally, options);
        stopped.add(dir);
        return;
      }
      tally.failed += 1;
      const fix = remedy(error, dir, file);
      log.error(`failed to compress ${file}: ${oneLine(error)}${fix ? `; ${fix}` : ''}`, { file });
      options.reporter?.capture(error, { directory: dir, file: name });
    }
    options.progress?.advance(bytes);
  });
  options.progress?.done();

  logPassDone(tally, options);
  return { exitCode: passExitCode(tally), nextDueAt, tally };
}

/** The pass's counts, on one line: at debug when a service's pass found nothing to do (quietWhenIdle). */
function logPassDone(tally: Tally, options: PassOptions): void {
  const idle = tally.compressed + tally.alreadyArchived + tally.changed + tally.failed + tally.configErrors === 0;
  const summary = options.quietWhenIdle && idle ? options.log.debug : options.log.info;
  summary('pass done', {
    compressed: tally.compressed,
    alreadyArchived: tally.alreadyArchived,
    duplicates: tally.duplicates,
    changed: tally.changed,
    failed: tally.failed,
    configErrors: tally.configErrors,
    waiting: tally.waiting,
    ignored: tally.ignored,
    bytesIn: tally.bytesIn,
    bytesOut: tally.bytesOut,
  });
}

/** The files due in every directory, and when the next waiting one becomes due; a directory that cannot be scanned counts as failed. */
async function scanDirs(
  options: PassOptions,
  now: number,
  tally: Tally,
  held: Map<string, HeldDir>,
): Promise<{ work: Work[]; nextDueAt: number | undefined }> {
  const { log } = options;
  let nextDueAt: number | undefined;
  const work: Work[] = [];
  for (const dir of options.dirs) {
    try {
      held.set(dir, await ensureArchiveDir(dir));
      const selection = await scanDir(dir, now, options.minAgeMs, log);
      tally.waiting += selection.waiting.length;
      tally.ignored += selection.ignored.length;
      if (selection.nextDueAt !== undefined) nextDueAt = Math.min(nextDueAt ?? Infinity, selection.nextDueAt);
      for (const c of selection.due) work.push({ dir, name: c.log.name, bytes: selection.sizes.get(c.log.name) ?? 0 });
    } catch (error) {
      if (error instanceof ConfigError) {
        configError(error, dir, tally, options);
        continue;
      }
      tally.failed += 1;
      log.error(`cannot scan ${dir}: ${oneLine(error)}`, { dir });
      options.reporter?.capture(error, { directory: dir });
    }
  }
  return { work, nextDueAt };
}

/** Counts what became of a file, and says it. */
function countOutcome(outcome: Outcome, file: string, dir: string, tally: Tally, log: Logger): void {
  switch (outcome.kind) {
    case 'compressed': {
      tally.compressed += 1;
      if (outcome.duplicate) tally.duplicates += 1;
      tally.bytesIn += outcome.bytesIn;
      tally.bytesOut += outcome.bytesOut;
      const ratio = outcome.bytesIn === 0 ? 1 : outcome.bytesOut / outcome.bytesIn;
      log.info(
        `compressed ${formatBytes(outcome.bytesIn)} -> ${formatBytes(outcome.bytesOut)} (${(ratio * 100).toFixed(1)}%)`,
        {
          file,
          archive: path.join(dir, outcome.archive),
          bytesIn: outcome.bytesIn,
          bytesOut: outcome.bytesOut,
          ratio: Number(ratio.toFixed(4)),
          ms: outcome.ms,
        },
      );
      break;
    }
    case 'already-archived':
      tally.alreadyArchived += 1;
      break;
    case 'changed':
      tally.changed += 1;
      log.warn(`${file} changed while being compressed; kept it, and will try again on a later pass`, {
        file,
        detail: outcome.detail,
      });
      break;
    case 'gone':
      log.debug('disappeared before it could be compressed', { file });
      break;
    case 'aborted':
      log.info('stopping: rolled back the compression in progress; the source is kept', { file });
      break;
  }
}
