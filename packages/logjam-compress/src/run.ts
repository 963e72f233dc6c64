// logjam-compress from checked options to an exit code: the directories
// checked, their locks, then one pass (--once) or the service loop, with
// metrics after every pass.
import { promises as fs, constants } from 'node:fs';
import path from 'node:path';
import {
  errorCode,
  lockForMode,
  onStopSignals,
  parseLogName,
  runService,
  UsageError,
  withPassMetrics,
  type ErrorReporter,
  type Lock,
  type Logger,
  type Progress,
} from '@logjam/core';
import { MIN_THREADPOOL } from '@logjam/core/threadpool';
import { ARCHIVE_DIR, ensureArchiveDir, removeLeftoverTemps } from './compress.js';
import { compressBacklog, writeCompressMetrics } from './monitor.js';
import { compressPass } from './pass.js';

export const LOCK_NAME = '.logjam-compress.lock';

export interface RunOptions {
  dirs: string[];
  once: boolean;
  level: number;
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
}

export async function runCompress(options: RunOptions): Promise<number> {
  const { log, reporter } = options;
  const dirs = await checkDirs(options.dirs);
  warnSmallThreadpool(options);
  const locks: Lock[] = [];
  try {
    const lockedDirs = await lockDirs(dirs, options, locks);
    if (!lockedDirs) {
      log.info('stopped before starting');
      return 0;
    }
    const passOptions = { dirs: lockedDirs, level: options.level, verify: options.verify, minAgeMs: options.minAgeMs, jobs: options.jobs, log, quietWhenIdle: !options.once, reporter, progress: options.progress };
    return await runService({
      once: options.once,
      intervalMs: options.intervalMs,
      watchDirs: lockedDirs,
      log,
      // Only a new log file can close another; writes to the open one cannot.
      isRelevant: (file, event) => event !== 'change' && parseLogName(path.basename(file)) !== null,
      pass: (signal) =>
        withPassMetrics(() => compressPass(passOptions, signal), {
          file: options.metricsFile,
          log,
          reporter,
          write: async (file, result, durationMs) => {
            if (!result) return;
            const now = Date.now();
            await writeCompressMetrics(file, { tally: result.tally, durationMs, backlog: await compressBacklog(lockedDirs, now, options.minAgeMs), now });
          },
        }),
    });
  } finally {
    await Promise.all(locks.map((lock) => lock.release().catch(() => {})));
  }
}

/** More jobs than libuv's threadpool has threads only wait for one (core's threadpool.ts): said when the user's UV_THREADPOOL_SIZE is the cause. */
function warnSmallThreadpool(options: RunOptions): void {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || MIN_THREADPOOL;
  if (options.jobs <= pool) return;
  const say = options.jobsGiven ? options.log.warn : options.log.debug;
  say(`--jobs ${options.jobs} but libuv's threadpool has ${pool} threads: at most ${pool} blocks are really compressed at once; leave UV_THREADPOOL_SIZE unset (logjam-compress then sizes it from --jobs) or set it to ${options.jobs + 2}`);
}

/**
 * Takes each directory's lock (into `locks`) and readies it: archive/ exists,
 * and no temporary file of a killed run is left in it. The directories locked;
 * with --once, those another logjam-compress holds are left to it. A service
 * waits for all; null when it was stopped meanwhile.
 */
async function lockDirs(dirs: string[], options: RunOptions, locks: Lock[]): Promise<string[] | null> {
  const { log } = options;
  const stop = new AbortController();
  // A service waiting for a lock stops on SIGTERM / SIGINT; --once does not wait.
  const offSignals = options.once ? () => {} : onStopSignals(() => stop.abort());
  try {
    const lockOne = async (dir: string) => {
      const lock = await lockForMode(path.join(dir, LOCK_NAME), {
        once: options.once,
        signal: stop.signal,
        onHeld: (pid) =>
          log.info(pid > 0 ? `another logjam-compress (pid ${pid}) is working on ${dir}; leaving it to it` : `another logjam-compress is starting on ${dir}; leaving it to it`, {
            dir,
            pid: pid || undefined,
          }),
        onWait: (pid) => log.info(`another logjam-compress${pid > 0 ? ` (pid ${pid})` : ''} is working on ${dir}; waiting for it to finish`, { dir }),
      });
      if (lock) locks.push(lock);
      return lock ? dir : undefined;
    };
    const locked: Array<string | undefined> = [];
    if (options.once) for (const dir of dirs) locked.push(await lockOne(dir));
    else locked.push(...(await Promise.all(dirs.map(lockOne))));
    if (stop.signal.aborted) return null;
    const lockedDirs = options.once ? locked.filter((dir) => dir !== undefined) : dirs;
    await prepare(lockedDirs, log);
    return lockedDirs;
  } finally {
    offSignals();
  }
}

/** With the lock held: archive/ exists, and no temporary file of a killed run is left in it. */
async function prepare(dirs: string[], log: Logger): Promise<void> {
  for (const dir of dirs) {
    try {
      const archiveDir = await ensureArchiveDir(dir);
      await removeLeftoverTemps(archiveDir, log);
    } catch (error) {
      // The pass reports it (and fails the files of that directory).
      log.debug(`cannot prepare ${path.join(dir, ARCHIVE_DIR)}`, { error: String(error) });
    }
  }
}

/** Every LOG_DIR must be an existing directory we can read and write (read only, for --check); duplicates are dropped. */
export async function checkDirs(dirs: string[], access = constants.R_OK | constants.W_OK | constants.X_OK): Promise<string[]> {
  const seen = new Set<string>();
  const result: string[] = [];
  for (const dir of dirs) {
    let real: string;
    try {
      real = await fs.realpath(dir);
      const stats = await fs.stat(real);
      if (!stats.isDirectory()) throw new UsageError(`LOG_DIR ${dir} is not a directory: give the directory that holds the log files`);
      await fs.access(real, access);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new UsageError(`LOG_DIR ${dir} does not exist: check the path, or create the directory`);
      if (code === 'EACCES' || code === 'EPERM') {
        const needs = access & constants.W_OK ? 'readable and writable' : 'readable';
        throw new UsageError(`LOG_DIR ${dir} is not ${needs} by this user: run logjam-compress as the user that owns the logs`);
      }
      throw new UsageError(`LOG_DIR ${dir} cannot be used (${code ?? String(error)})`);
    }
    if (seen.has(real)) continue;
    seen.add(real);
    result.push(real);
  }
  return result;
}
