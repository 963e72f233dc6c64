// logjam-compress from checked options to an exit code: the directories
// checked, their locks, then one pass (--once) or the service loop, with
// metrics after every pass.
import path from 'node:path';
import {
  checkMetricsFile,
  checkNotLink,
  checkPermissions,
  ConfigError,
  walkToDir,
  EXIT_OK,
  EXIT_USAGE,
  lockForMode,
  lockMessages,
  oneLine,
  onStopSignals,
  showPaths,
  parseLogName,
  runService,
  withPassMetrics,
  type ErrorReporter,
  type HeldDir,
  type Lock,
  type Logger,
  type Progress,
} from '@logjam/core';
import { MIN_THREADPOOL } from '@logjam/core/threadpool';
import type { ArchiveFormat } from './archive-format.js';
import { ARCHIVE_DIR } from './compress.js';
import { checkDirs, prepare } from './log-dirs.js';
import { compressBacklog, writeCompressMetrics } from './monitor.js';
import { compressPass } from './pass.js';

export { checkDirs } from './log-dirs.js';

export const LOCK_NAME = '.logjam-compress.lock';

export interface RunOptions {
  dirs: string[];
  once: boolean;
  level: number;
  format: ArchiveFormat;
  verify: boolean;
  minAgeMs: number;
  intervalMs: number;
  jobs: number;
  /** Whether --jobs was given (rather than the default). */
  jobsGiven: boolean;
  /** Rewritten after every pass, in the Prometheus text format. */
  metricsFile?: string | undefined;
  log: Logger;
  /** Errors that fail a file or a directory go there too (Sentry). */
  reporter?: ErrorReporter | undefined;
  /** The progress bar of a --once pass at a terminal. */
  progress?: Progress | undefined;
  /** As root, refuse a LOG_DIR or archive/ that other users can write (off with --user or --insecure-permissions). */
  permissionRule: boolean;
}

/**
 * Configuration errors of single directories (archive/ or the lock a link,
 * loose permissions as root): each said on one line and reported; the run
 * goes on with the other directories and exits 2.
 */
class DirConfigErrors {
  count = 0;
  /** Those not yet counted in a pass's summary and the metrics file. */
  unreported = 0;
  constructor(private readonly options: RunOptions) {}
  /** Whether `error` is a configuration error (then it is said and counted). */
  take(error: unknown, dir: string): boolean {
    if (!(error instanceof ConfigError)) return false;
    this.count += 1;
    this.unreported += 1;
    this.options.log.error(oneLine(error), { dir });
    this.options.reporter?.capture(error, { directory: dir });
    return true;
  }
  exitCode(code: number): number {
    return this.count > 0 ? EXIT_USAGE : code;
  }
}

export async function runCompress(options: RunOptions): Promise<number> {
  const { log } = options;
  /** Monitoring sees every directory asked for, those left out included. */
  const requested = await checkDirs(options.dirs);
  if (options.metricsFile !== undefined) await checkMetricsFile(options.metricsFile, 'logjam-compress');
  warnSmallThreadpool(options);
  const problems = new DirConfigErrors(options);
  const locks: Lock[] = [];
  const skipped = { locked: 0 };
  /** Each LOG_DIR, walked and held open for the whole run: all work in it goes through its descriptor (see core's walk). */
  const held = new Map<string, HeldDir>();
  try {
    const dirs = await safeDirs(requested, options, problems, held);
    const lockedDirs = await lockDirs(dirs, options, locks, problems, skipped);
    if (!lockedDirs) {
      log.info('stopped before starting');
      return problems.exitCode(EXIT_OK);
    }
    if (lockedDirs.length === 0 && !options.once) {
      // A service with nothing left to watch ends, on the one line that ends a run.
      if (problems.count > 0)
        throw new ConfigError(
          `no LOG_DIR left to work in: ${problems.count} configuration error${problems.count === 1 ? '' : 's'} said above; fix ${problems.count === 1 ? 'it' : 'them'} and start logjam-compress again`,
        );
      return EXIT_OK;
    }
    return problems.exitCode(
      await runService({
        once: options.once,
        intervalMs: options.intervalMs,
        watchDirs: lockedDirs.map((io) => named(held, io)),
        log,
        // Only a new log file can close another; writes to the open one cannot.
        isRelevant: (file, event) => event !== 'change' && parseLogName(path.basename(file)) !== null,
        pass: (signal) => passWithMetrics(lockedDirs, options, { requested, problems, skipped }, signal),
      }),
    );
  } finally {
    await Promise.all(locks.map((lock) => lock.release().catch(() => {})));
    await Promise.all([...held.values()].map((dir) => dir.close()));
  }
}

/**
 * One pass over the locked directories, then the metrics file. The
 * configuration errors and locked directories found at start are counted
 * once, in the first pass's summary and metrics.
 */
function passWithMetrics(
  dirs: string[],
  options: RunOptions,
  run: { requested: string[]; problems: DirConfigErrors; skipped: { locked: number } },
  signal: AbortSignal,
) {
  const { log, reporter } = options;
  const configErrorsAtStart = run.problems.unreported;
  run.problems.unreported = 0;
  const passOptions = {
    dirs,
    level: options.level,
    format: options.format,
    verify: options.verify,
    minAgeMs: options.minAgeMs,
    jobs: options.jobs,
    log,
    quietWhenIdle: !options.once,
    reporter,
    progress: options.progress,
    configErrorsAtStart,
  };
  return withPassMetrics(() => compressPass(passOptions, signal), {
    file: options.metricsFile,
    log,
    reporter,
    write: async (file, result, durationMs) => {
      if (!result) return;
      const now = Date.now();
      const backlog = await compressBacklog(run.requested, now, options.minAgeMs);
      await writeCompressMetrics(file, {
        tally: result.tally,
        skippedLocked: run.skipped.locked,
        durationMs,
        backlog,
        now,
      });
      run.skipped.locked = 0;
    },
  });
}

/** The name the user gave of the LOG_DIR held as `io`. */
function named(held: Map<string, HeldDir>, io: string): string {
  for (const dir of held.values()) if (dir.via === io) return dir.path;
  return io;
}

/** More jobs than libuv's threadpool has threads only wait for one (core's threadpool.ts): said when the user's UV_THREADPOOL_SIZE is the cause. */
function warnSmallThreadpool(options: RunOptions): void {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || MIN_THREADPOOL;
  if (options.jobs <= pool) return;
  const say = options.jobsGiven ? options.log.warn : options.log.debug;
  say(
    `--jobs ${options.jobs} but libuv's threadpool has ${pool} threads: at most ${pool} blocks are really compressed at once; leave UV_THREADPOOL_SIZE unset (logjam-compress then sizes it from --jobs) or set it to ${options.jobs + 2}`,
  );
}

/**
 * Takes each directory's lock (into `locks`) and readies it: archive/ exists,
 * and no temporary file of a killed run is left in it. The directories locked;
 * with --once, those another logjam-compress holds are left to it. A service
 * waits for all; null when it was stopped meanwhile.
 */
async function lockDirs(
  dirs: string[],
  options: RunOptions,
  locks: Lock[],
  problems: DirConfigErrors,
  skipped: { locked: number },
): Promise<string[] | null> {
  const { log } = options;
  const stop = new AbortController();
  // A service waiting for a lock stops on SIGTERM / SIGINT; --once does not wait.
  const offSignals = options.once ? () => {} : onStopSignals(() => stop.abort());
  try {
    const lockOne = async (io: string) => {
      const file = path.join(io, LOCK_NAME);
      const dir = showPaths(io);
      let lock: Lock | null;
      try {
        lock = await lockForMode(file, {
          owner: 'logjam-compress',
          once: options.once,
          signal: stop.signal,
          ...lockMessages('logjam-compress', { dir, file }, log, () => (skipped.locked += 1)),
        });
      } catch (error) {
        if (problems.take(error, dir)) return undefined;
        throw error;
      }
      if (lock) locks.push(lock);
      return lock ? io : undefined;
    };
    const locked: Array<string | undefined> = [];
    if (options.once) for (const dir of dirs) locked.push(await lockOne(dir));
    else locked.push(...(await Promise.all(dirs.map(lockOne))));
    if (stop.signal.aborted) return null;
    const lockedDirs = locked.filter((dir) => dir !== undefined);
    await prepare(lockedDirs, log);
    return lockedDirs;
  } finally {
    offSignals();
  }
}

/**
 * The directories fit to work in, each walked from / without following a link
 * and held (into `held`), as the path to work through: archive/ not a link nor
 * a file, and, as root, LOG_DIR, the folders above it and archive/ controlled
 * by root alone (core's permissions), unless the user said who to be or
 * accepted the risk. The others are left out.
 */
async function safeDirs(
  dirs: string[],
  options: RunOptions,
  problems: DirConfigErrors,
  held: Map<string, HeldDir>,
): Promise<string[]> {
  const safe: string[] = [];
  for (const dir of dirs) {
    try {
      const logDir = await walkToDir(dir, { what: 'LOG_DIR', binary: 'logjam-compress', rule: options.permissionRule });
      held.set(dir, logDir);
      await checkNotLink(path.join(logDir.via, ARCHIVE_DIR), `the archives of ${dir}`);
      if (options.permissionRule)
        await checkPermissions([path.join(logDir.via, ARCHIVE_DIR)], { binary: 'logjam-compress' });
      safe.push(logDir.via);
    } catch (error) {
      if (!problems.take(error, dir)) throw error;
    }
  }
  return safe;
}
