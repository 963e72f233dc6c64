#!/usr/bin/env node
// logjam-compress: gzip every closed hourly log file into archive/ beside it.
//
// About UV_THREADPOOL_SIZE: zlib and fs work run on libuv's threadpool (4
// threads by default), so more than 4 simultaneous compressions only help
// with a bigger pool. It cannot be enlarged from here: when Node loads an ES
// module as its entry point it already reads files through that pool, so the
// pool exists, at its final size, before this line runs. The package's `bin`
// is therefore a CommonJS launcher (src/launcher.ts) that sets it to --jobs + 2
// (at least 4) before loading this module, unless the user set it; we say so
// when --jobs asks for more than the pool offers (an explicit, smaller value).
import { promises as fs, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'clipanion';
import {
  checkBacklog,
  createErrorReporter,
  createLogger,
  createProgress,
  LogjamCommand,
  oneLine,
  parseAge,
  parseLogName,
  runCli,
  runService,
  t,
  tryLock,
  waitLock,
  UsageError,
  errorCode,
  type ErrorReporter,
  type Lock,
  type Logger,
  type Progress,
} from '@logjam/core';
import { ARCHIVE_DIR, removeLeftoverTemps } from './compress.js';
import { compressBacklog, writeCompressMetrics } from './monitor.js';
import { defaultJobs } from './defaults.js';
import { ensureArchiveDir, runPass } from './run.js';

export const LOCK_FILE = '.logjam-compress.lock';
const DEFAULT_THREADPOOL = 4;

const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const isIntIn = (min: number, max: number) => t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(min, max)]);
const isSeconds = (min: number) => t.cascade(t.isNumber(), [t.isAtLeast(min)]);

export class CompressCommand extends LogjamCommand {
  static override paths = [Command.Default];

  static override usage = Command.Usage({
    description: 'gzip closed hourly log files into archive/ beside them, never losing a line',
    details: `
      Log files are named \`PREFIX-STAMP[-SUFFIX].EXTENSION\`, STAMP being a UTC \`YYYYMMDDTHHMMZ\` (dashes and a colon allowed). A file is closed when a newer file of its group (same prefix, suffix and extension) exists, or when its stamp is more than 1 hour 5 minutes old; it is compressed once its mtime is at least \`--min-age\` seconds old.

      Each file is gzipped into a temporary file in \`LOG_DIR/archive/\`, synced, verified (decompressed and compared by length and CRC-32), then published as \`archive/NAME.gz\` (an existing archive is never replaced), and only then is the source deleted. An archive of the same name with other content makes the new one \`PREFIX-logjam-compress-duplicate-timestamp[-NN]-STAMP[-SUFFIX]EXT.gz\`.

      With \`--once\` it does one pass and exits: 0 when everything due was done (or nothing was due), 1 when any file failed, 2 for a usage error. Without it, it runs as a service: it reacts to new files and to the clock, rescans every \`--interval\` seconds, and exits 0 on SIGTERM or SIGINT after finishing or rolling back the file in progress.

      One instance per directory: a lock file \`LOG_DIR/.logjam-compress.lock\` holds the owner's pid. With \`--once\` a held lock means the directory is skipped (exit 0); a service waits for it. A lock left by a dead process is taken over.

      Logs go to stderr; stdout stays empty. With \`--once\` at a terminal, a progress bar (files, bytes, rate, ETA) shows on stderr; never when stderr is not a terminal (cron, runit, systemd).

      Monitoring: \`--check\` prints what is due for compression and exits 0 (OK) when the oldest due file has been due for less than \`--max-age\`, 1 (WARNING) when longer, 2 for a usage error (Nagios / Sensu plugin convention); it reads only, takes no lock. \`--metrics-file PATH\` rewrites PATH after every pass in the Prometheus text format (node_exporter's textfile collector). With SENTRY_DSN set, every error that fails a file, a directory or the start is reported to Sentry, tagged with the directory and the file.

      libuv's threadpool (zlib, file I/O) is sized to \`--jobs\` + 2 threads (at least 4) at start; an explicit UV_THREADPOOL_SIZE in the environment wins.

      Every flag can also be set in the environment as LOGJAM_<FLAG>: \`LOGJAM_LEVEL=9\`, \`LOGJAM_MIN_AGE=120\`, \`LOGJAM_ONCE=1\`, \`LOGJAM_VERIFY=0\` (switches take 1/0, true/false, yes/no, on/off). A flag on the command line wins; a bad value is a usage error naming the variable.
    `,
    examples: [
      ['Compress what is due once, from cron', '$0 --once /var/log/hourly'],
      ['Run as a service on two directories', '$0 /var/log/haproxy /var/log/nginx'],
      ['Fast and light: level 1, four files at a time, JSON logs', '$0 --once --level 1 --jobs 4 --log-format json /var/log/hourly'],
      ['Nagios / Sensu check: is anything due for more than 2 hours?', '$0 --check --max-age 2h /var/log/hourly'],
      ['From cron, with metrics for node_exporter', '$0 --once --metrics-file /var/lib/node_exporter/textfile_collector/logjam_compress.prom /var/log/hourly'],
    ],
  });

  once = Option.Boolean('--once', false, {
    description: 'Do one pass over each directory, then exit (for cron); without it, run as a service',
  });

  level = Option.String('--level', '6', {
    description: 'gzip compression level, 1 (fastest) to 9 (smallest) (default: 6)',
    validator: isIntIn(1, 9),
  }) as unknown as number;

  minAge = Option.String('--min-age', '60', {
    description: 'Leave a closed file alone until its mtime is this many seconds old, as its writer may still be flushing; 0 disables (default: 60)',
    validator: isSeconds(0),
  }) as unknown as number;

  jobs = Option.String('--jobs', {
    description: 'Compress up to this many files, and this many 4 MiB blocks (cores), at once (default: the number of CPUs)',
    validator: isIntIn(1, 1024),
  }) as unknown as number | undefined;

  interval = Option.String('--interval', '60', {
    description: 'In service mode, rescan every directory this often, in seconds, as a safety net (default: 60)',
    validator: t.cascade(t.isNumber(), [t.isAtLeast(1)]),
  }) as unknown as number;

  verify = Option.Boolean('--verify', true, {
    description: 'Decompress each archive and compare its length and CRC-32 with the source before deleting the source; --no-verify skips this (default: on)',
  });

  check = Option.Boolean('--check', false, {
    description: 'Print what is due for compression and exit 0 if the oldest due file is younger than --max-age, 1 if older (a Nagios / Sensu check); reads only, no lock (default: off)',
  });

  maxAge = Option.String('--max-age', '2h', {
    description: 'With --check: the age of the oldest due file beyond which the check fails, such as 90m, 2h, 1d or seconds (default: 2h)',
  });

  metricsFile = Option.String('--metrics-file', {
    description: 'After every pass, rewrite this file atomically with metrics in the Prometheus text format, for node_exporter\'s textfile collector (default: none)',
  });

  dirs = Option.Rest({ name: 'LOG_DIR', required: 1 });

  async run(baseLog: Logger): Promise<number> {
    const maxAgeMs = parseAge('--max-age', this.maxAge);
    if (this.check) {
      const dirs = await checkDirs(this.dirs, constants.R_OK | constants.X_OK);
      const now = Date.now();
      const result = checkBacklog(await compressBacklog(dirs, now, Number(this.minAge) * 1000), { now, maxAgeMs, waitingFor: 'due for compression' });
      process.stdout.write(result.text);
      return result.code;
    }
    // A --once pass at a terminal draws a progress bar; log lines go around it.
    const progress = this.once ? createProgress({ label: 'compressed', stream: process.stderr }) : undefined;
    const log = progress
      ? createLogger({ name: 'logjam-compress', level: this.logLevel, format: this.logFormat, write: progress.wrap((line) => void process.stderr.write(line)) })
      : baseLog;
    const reporter = await createErrorReporter({ binary: 'logjam-compress', version, log });
    try {
      return await this.compress(log, reporter, progress);
    } catch (error) {
      // A start-up error (a missing directory...) is worth a report too: the host stopped compressing.
      reporter.capture(error, { directory: this.dirs.join(' ') });
      throw error;
    } finally {
      progress?.done();
      await reporter.flush();
    }
  }

  private async compress(log: Logger, reporter: ErrorReporter, progress: Progress | undefined): Promise<number> {
    // clipanion's typanion validators may hand back strings for defaults: normalise.
    const level = Number(this.level);
    const minAgeMs = Number(this.minAge) * 1000;
    const intervalMs = Number(this.interval) * 1000;
    const jobs = this.jobs === undefined ? defaultJobs() : Number(this.jobs);
    const dirs = await checkDirs(this.dirs);

    const pool = Number(process.env.UV_THREADPOOL_SIZE) || DEFAULT_THREADPOOL;
    if (jobs > pool) {
      const say = this.jobs === undefined ? log.debug : log.warn;
      say(`--jobs ${jobs} but libuv's threadpool has ${pool} threads: at most ${pool} blocks are really compressed at once; leave UV_THREADPOOL_SIZE unset (logjam-compress then sizes it from --jobs) or set it to ${jobs + 2}`);
    }

    const locks: Lock[] = [];
    try {
      let lockedDirs: string[];
      if (this.once) {
        lockedDirs = [];
        for (const dir of dirs) {
          const attempt = await tryLock(path.join(dir, LOCK_FILE));
          if (attempt.acquired) {
            locks.push(attempt.lock);
            lockedDirs.push(dir);
          } else {
            log.info(
              attempt.heldBy > 0
                ? `another logjam-compress (pid ${attempt.heldBy}) is working on ${dir}; leaving it to it`
                : `another logjam-compress is starting on ${dir}; leaving it to it`,
              { dir, pid: attempt.heldBy || undefined },
            );
          }
        }
      } else {
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        try {
          await Promise.all(
            dirs.map(async (dir) => {
              const lock = await waitLock(path.join(dir, LOCK_FILE), {
                signal: stop.signal,
                onWait: (pid) => log.info(`another logjam-compress${pid > 0 ? ` (pid ${pid})` : ''} is working on ${dir}; waiting for it to finish`, { dir }),
              });
              if (lock) locks.push(lock);
            }),
          );
          if (stop.signal.aborted) {
            log.info('stopped before starting');
            return 0;
          }
          lockedDirs = dirs;
          await prepare(lockedDirs, log);
        } finally {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
        }
      }
      if (this.once) await prepare(lockedDirs, log);

      const passOptions = { dirs: lockedDirs, level, verify: this.verify, minAgeMs, jobs, log, quietWhenIdle: !this.once, reporter, progress };
      const metricsFile = this.metricsFile === undefined ? undefined : path.resolve(this.metricsFile);
      return await runService({
        once: this.once,
        intervalMs,
        watchDirs: lockedDirs,
        log,
        // Only a new log file can close another; writes to the open one cannot.
        isRelevant: (file, event) => event !== 'change' && parseLogName(path.basename(file)) !== null,
        pass: async (signal) => {
          const started = Date.now();
          const result = await runPass(passOptions, signal);
          if (metricsFile !== undefined) {
            try {
              const now = Date.now();
              await writeCompressMetrics(metricsFile, { tally: result.tally, durationMs: now - started, backlog: await compressBacklog(lockedDirs, now, minAgeMs), now });
            } catch (error) {
              // Monitoring trouble does not fail the pass; it is said, and reported.
              log.error(`cannot write the metrics file ${metricsFile}: ${oneLine(error)}`);
              reporter.capture(error, { file: metricsFile });
            }
          }
          return result;
        },
      });
    } finally {
      await Promise.all(locks.map((lock) => lock.release().catch(() => {})));
    }
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
async function checkDirs(dirs: string[], access = constants.R_OK | constants.W_OK | constants.X_OK): Promise<string[]> {
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

process.exitCode = await runCli({ binaryName: 'logjam-compress', binaryVersion: version, commands: [CompressCommand] }, process.argv.slice(2));
