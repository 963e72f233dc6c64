// logjam-upload from checked options to an exit code: checks, lock, then one
// pass (--once, --dry-run) or the service loop, with metrics after every pass.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  checkMetricsFile,
  checkNotLink,
  checkPermissions,
  checkWritableDir,
  ConfigError,
  displayName,
  EXIT_FAILED,
  EXIT_OK,
  errorCode,
  formatAge,
  LOCK_SETTLE_MS,
  lockForMode,
  makeAndHoldDir,
  onStopSignals,
  runService,
  showPaths,
  sleepUnlessAborted,
  splayDelayMs,
  UsageError,
  waitForDir,
  watchEarly,
  walkToDir,
  withPassMetrics,
  type EarlyWatch,
  type ErrorReporter,
  type HeldDir,
  type PassMetricsWriter,
  type Lock,
  type Logger,
  type Progress,
} from '@logjam/core';
import { uploadBacklog, writeUploadMetrics } from './monitor.js';
import { describeError, RequestCounts, type RetryMode } from './s3.js';
import { holdMarkerDir, isArchivePath, listPending, MARKER_DIR, PendingScanner, removeLeftoverMarkerTemps } from './ledger.js';
import { fixedBucket, type Template } from './template.js';
import type { ConditionalWritesMode } from './conditional.js';
import { BucketCheck, connect, StoreWrites } from './store.js';
import { StoreProfile } from './profile.js';
import type { PassContext, PassSummary } from './context.js';
import { PreparedPass, uploadPass } from './pass.js';
import { plan } from './plan.js';
import { deleteUploaded } from './retention.js';

export const LOCK_NAME = '.logjam-upload.lock';

export interface RunOptions {
  archiveDir: string;
  template: Template;
  once: boolean;
  dryRun: boolean;
  region?: string | undefined;
  endpointUrl?: string | undefined;
  forcePathStyle: boolean;
  storageClass?: string | undefined;
  sse?: string | undefined;
  sseKmsKeyId?: string | undefined;
  /** --conditional-writes: probe the store (auto), or take its answer as given. */
  conditionalWrites: ConditionalWritesMode;
  jobs: number;
  intervalMs: number;
  multipartThreshold: number;
  partSize: number;
  deleteUploadedAfterMs?: number | undefined;
  env: NodeJS.ProcessEnv;
  hostname?: string;
  log: Logger;
  /** Errors that fail a file or a pass go there too (Sentry), tagged with the directory and the file. */
  reporter?: ErrorReporter | undefined;
  /** The progress bar of a --once pass at a terminal. */
  progress?: Progress | undefined;
  /** Rewritten after every pass, in the Prometheus text format. */
  metricsFile?: string | undefined;
  /** As root, refuse an ARCHIVE_DIR or .uploaded/ that other users can write (off with --user or --insecure-permissions). */
  permissionRule: boolean;
  /** --splay: the window (seconds, maybe fractional) from which this host's delay before a pass is drawn; 0 for none. */
  splaySeconds?: number;
  retryMode?: RetryMode;
}

/** ARCHIVE_DIR's absolute path; it must be named `archive`, as the Python tool demands. */
function archiveDirPath(dir: string): string {
  const resolved = path.resolve(dir);
  if (path.basename(resolved) !== 'archive') {
    throw new UsageError(`ARCHIVE_DIR must be the folder named 'archive' that logjam-compress fills (such as /var/log/hourly/archive/), not '${dir}'`);
  }
  return resolved;
}

/** ARCHIVE_DIR must be a folder named `archive`, as the Python tool demands. */
export async function checkArchiveDir(dir: string): Promise<string> {
  const resolved = archiveDirPath(dir);
  let stat;
  try {
    stat = await fs.stat(resolved);
  } catch (error) {
    throw new ConfigError(`cannot use ARCHIVE_DIR '${dir}': ${errorCode(error) === 'ENOENT' ? 'no such folder' : String(error)}`);
  }
  if (!stat.isDirectory()) throw new ConfigError(`ARCHIVE_DIR '${dir}' is not a folder`);
  // The folder itself must not be a link (the path up to it is the user's own choice).
  await checkNotLink(resolved, 'the archives');
  await checkNotLink(path.join(resolved, MARKER_DIR), 'the upload markers');
  return resolved;
}

/**
 * As a service, an ARCHIVE_DIR that does not exist yet is waited for (logjam-compress makes it with its
 * first archive; the two services start together at boot), said once at INFO. False when stopped first.
 */
async function archiveDirAppears(options: RunOptions): Promise<boolean> {
  const dir = archiveDirPath(options.archiveDir);
  const missing = await fs.lstat(dir).then(
    () => false,
    (error: unknown) => errorCode(error) === 'ENOENT',
  );
  if (!missing) return true;
  // SIGTERM handled before the line is out: whoever reads it may stop the service at once.
  const stop = new AbortController();
  const offSignals = onStopSignals(() => stop.abort());
  options.log.info(`${dir} does not exist yet; waiting for it (logjam-compress makes it with its first archive)`, { dir });
  try {
    if (await waitForDir(dir, { signal: stop.signal, pollMs: options.intervalMs })) return true;
    options.log.info('stopped');
    return false;
  } finally {
    offSignals();
  }
}

export async function runUpload(options: RunOptions): Promise<number> {
  const { log } = options;
  if (!options.once && !options.dryRun && !(await archiveDirAppears(options))) return EXIT_OK;
  const archiveDir = await checkArchiveDir(options.archiveDir);
  const hostname = options.hostname ?? os.hostname();
  if (options.dryRun) return dryRun(options, archiveDir, hostname);
  await checkWritable(archiveDir, options.metricsFile);

  // Stop (SIGTERM / SIGINT) from the very start, so that waiting for the lock can be interrupted too.
  const stop = new AbortController();
  const offSignals = onStopSignals(() => stop.abort());
  let lock: Lock | null = null;
  let held: HeldDir | undefined;
  let markers: HeldDir | undefined;
  let unholdMarkers: (() => void) | undefined;
  let client: S3Client | undefined;
  let earlyWatch: EarlyWatch | undefined;
  /** The start of the first pass, begun before S3 is reachable; the first pass takes it up. */
  const early: { prepared?: PreparedPass | undefined } = {};
  const splayMs = splayDelayMs(hostname, options.splaySeconds ?? 0);
  try {
    // Everything in ARCHIVE_DIR from here on goes through the folder, walked from / without
    // following a link and held open (see core's walk and held-dir), the lock included.
    // As logrotate: root works only where no one else could make it write elsewhere, unless told who to be, or told to accept it.
    held = await walkToDir(archiveDir, { what: 'ARCHIVE_DIR', binary: 'logjam-upload', rule: options.permissionRule });
    const io = held.via;
    if (options.permissionRule) await checkPermissions([path.join(io, MARKER_DIR)], { binary: 'logjam-upload' });
    // --splay: this host's slot in the fleet's window, waited out before anything else (no lock held,
    // no connection open); not at all when nothing waits for upload.
    if (options.once && splayMs > 0 && !(await waitSplay(options, archiveDir, splayMs, stop.signal))) return EXIT_FAILED;
    let skipped = false;
    lock = await lockForMode(path.join(io, LOCK_NAME), {
      owner: 'logjam-upload',
      once: options.once,
      signal: stop.signal,
      onHeld: (pid) => {
        // Said at WARN and counted: a lock that never goes away must not stop uploads unnoticed.
        skipped = true;
        log.warn(
          pid > 0
            ? `another logjam-upload (pid ${pid}) is working on ${archiveDir}; skipped it, leaving it to that one`
            : `${path.join(archiveDir, LOCK_NAME)} was made a moment ago and holds no pid of a running logjam-upload yet; skipped ${archiveDir} (a lock like that is taken over once it is ${LOCK_SETTLE_MS / 1000} s old)`,
          { dir: archiveDir, pid: pid || undefined },
        );
      },
      onWait: (pid) => log.info('another logjam-upload holds the archive folder; waiting for it', { dir: archiveDir, pid: pid || undefined }),
      onTakeOver: (why) => log.warn(`took over the lock ${path.join(archiveDir, LOCK_NAME)}: ${why}`, { dir: archiveDir }),
    });
    if (!lock) {
      if (skipped) await withPassMetrics(async () => undefined, skippedWriter(options, io));
      return EXIT_OK;
    }

    // Watching begins before the first listing: an archive that appears while it connects wakes the service.
    if (!options.once) earlyWatch = await watchEarly([archiveDir], log);
    // The scan and the reading ahead (MD5s of large files) need no S3: they begin
    // now, while the SDK loads and the bucket is checked, and the first pass takes them up.
    const scanner = new PendingScanner(io);
    early.prepared = new PreparedPass({ archiveDir: io, jobs: options.jobs, multipartThreshold: options.multipartThreshold, partSize: options.partSize, signal: stop.signal, scanner, log });

    const requests = new RequestCounts();
    const s3 = await connect(options, stop.signal, requests);
    client = s3.client;
    // Read before .uploaded/ is held (the bucket check uses it), through the held archive folder, never a link.
    const profile = new StoreProfile(io, log);
    const bucket = new BucketCheck(options, s3.client, stop.signal, { archiveDir, hostname, endpoint: s3.endpoint }, profile);
    await bucket.atStart(s3.endpoint);

    // Made only now, so that a configuration error leaves nothing behind; held like ARCHIVE_DIR.
    markers = await makeAndHoldDir(path.join(io, MARKER_DIR), 'the upload markers');
    unholdMarkers = holdMarkerDir(io, markers);
    for (const name of await removeLeftoverMarkerTemps(io)) {
      log.info('removed a temporary file left by an interrupted run', { file: path.join(archiveDir, MARKER_DIR, name) });
    }
    /** Sizes of the pending files, for the progress bar. */
    const sizes = new Map<string, number>();
    const listing = { supported: true };
    const store = new StoreWrites(options, s3.client, { endpoint: s3.endpoint, archiveDir, hostname }, profile, listing, stop.signal);
    const ctx = passContext(options, sizes, {
      archiveDir: io,
      hostname,
      client: s3.client,
      scanner,
      requests,
      conditionalWrites: store.found,
      listing,
      beforeUploads: (pending) => store.learn(pending),
    });
    return await runService({
      once: options.once,
      intervalMs: options.intervalMs,
      watchDirs: [archiveDir],
      earlyWatch,
      isRelevant: isArchivePath,
      reactionDelayMs: splayMs,
      log,
      stop: stop.signal,
      pass: (signal) => {
        const prepared = early.prepared;
        early.prepared = undefined;
        return withPassMetrics(() => onePass({ options, bucket, store, sizes }, { ...ctx, signal }, prepared), metricsWriter(options, io));
      },
    });
  } finally {
    offSignals();
    await earlyWatch?.close();
    await early.prepared?.close();
    client?.destroy();
    await lock?.release();
    unholdMarkers?.();
    await markers?.close();
    await held?.close();
  }
}

/** What this user must be able to write, checked before any work: ARCHIVE_DIR, .uploaded/ if it exists, the metrics file's folder. */
async function checkWritable(archiveDir: string, metricsFile: string | undefined): Promise<void> {
  const binary = 'logjam-upload';
  await checkWritableDir(archiveDir, { what: 'its lock and the .uploaded/ markers', binary });
  const markers = path.join(archiveDir, MARKER_DIR);
  if (
    await fs.stat(markers).then(
      () => true,
      () => false,
    )
  )
    await checkWritableDir(markers, { what: 'the marker of each uploaded file', binary });
  if (metricsFile !== undefined) await checkMetricsFile(metricsFile, binary);
}

/** A --once run that found the lock held: counted, neither a pass nor a failure. */
function skippedWriter(options: RunOptions, archiveDir: string): PassMetricsWriter<undefined> {
  return {
    file: options.metricsFile,
    log: options.log,
    reporter: options.reporter,
    write: async (file) => {
      const now = Date.now();
      await writeUploadMetrics(file, { summary: undefined, succeeded: false, ran: false, skippedLocked: 1, durationMs: 0, backlog: await uploadBacklog(archiveDir), now });
    },
  };
}

/** After every pass: the pass's counts (none when it threw: it failed as a whole) and the backlog. */
function metricsWriter(options: RunOptions, archiveDir: string): PassMetricsWriter<PassOutcome> {
  return {
    file: options.metricsFile,
    log: options.log,
    reporter: options.reporter,
    write: async (file, result, durationMs) => {
      const now = Date.now();
      const succeeded = (result?.exitCode ?? EXIT_FAILED) === EXIT_OK;
      await writeUploadMetrics(file, { summary: result?.summary, succeeded, durationMs, backlog: await uploadBacklog(archiveDir), now });
    },
  };
}

/** --dry-run: no network, nothing written: what would go where. */
async function dryRun(options: RunOptions, archiveDir: string, hostname: string): Promise<number> {
  for (const { file, uri } of await plan({ archiveDir, template: options.template, hostname })) process.stdout.write(`${file} -> ${uri}\n`);
  if (options.deleteUploadedAfterMs !== undefined) await deleteUploaded({ archiveDir, ageMs: options.deleteUploadedAfterMs, dryRun: true, log: options.log });
  return EXIT_OK;
}

/** --once with --splay: waits this host's delay if anything is pending; false when SIGTERM cut it short (the files wait for the next run). */
async function waitSplay(options: RunOptions, archiveDir: string, splayMs: number, signal: AbortSignal): Promise<boolean> {
  const waiting = (await listPending(archiveDir)).length;
  if (waiting === 0) return true;
  // Said as --check says it (formatAge), so that the two figures agree.
  options.log.info(`waiting this host's splay of ${formatAge(splayMs)} before uploading`, { files: waiting, splay: formatAge((options.splaySeconds ?? 0) * 1000) });
  if (await sleepUnlessAborted(splayMs, signal)) return true;
  options.log.info('stopped during the splay; the files are left for the next run', { left: waiting });
  return false;
}

/** What every pass shares, but for its stop signal; the progress bar and the reporter hear of each file. */
function passContext(
  options: RunOptions,
  sizes: Map<string, number>,
  run: Pick<PassContext, 'archiveDir' | 'hostname' | 'client' | 'scanner' | 'requests' | 'conditionalWrites' | 'listing' | 'beforeUploads'>,
): Omit<PassContext, 'signal'> {
  return {
    ...run,
    template: options.template,
    jobs: options.jobs,
    multipartThreshold: options.multipartThreshold,
    partSize: options.partSize,
    storageClass: options.storageClass,
    sse: options.sse,
    sseKmsKeyId: options.sseKmsKeyId,
    log: options.log,
    quietWhenIdle: !options.once,
    onFileDone: (name, error) => {
      options.progress?.advance(sizes.get(displayName(name)) ?? 0);
      if (error !== undefined) options.reporter?.capture(error, { directory: showPaths(run.archiveDir), file: name });
    },
  };
}

interface PassOutcome {
  exitCode: number;
  summary?: PassSummary;
}

/** One pass: the bucket re-checked if it failed, the uploads, then --delete-uploaded-after. */
async function onePass(run: { options: RunOptions; bucket: BucketCheck; store: StoreWrites; sizes: Map<string, number> }, ctx: PassContext, prepared: PreparedPass | undefined): Promise<PassOutcome> {
  const { options, bucket, sizes } = run;
  const { log, reporter } = options;
  const { archiveDir } = ctx;
  if (!bucket.checked) {
    try {
      await bucket.check();
    } catch (error) {
      await prepared?.close();
      log.error('the bucket is still not usable', { bucket: fixedBucket(options.template) ?? options.template.source, error: describeError(error) });
      reporter?.capture(error, { directory: archiveDir });
      return { exitCode: EXIT_FAILED };
    }
  }
  if (options.progress) {
    const backlog = await uploadBacklog(archiveDir);
    for (const item of backlog) sizes.set(path.basename(item.file), item.bytes);
    options.progress.addTotal(
      backlog.length,
      backlog.reduce((sum, item) => sum + item.bytes, 0),
    );
  }
  const summary = await uploadPass(ctx, prepared);
  options.progress?.done();
  await bucket.afterPass(summary, Date.now());
  await run.store.afterPass();
  if (summary.fatal) {
    if (options.once) throw summary.fatal;
    log.error(summary.fatal.message);
    reporter?.capture(summary.fatal, { directory: archiveDir });
    bucket.checked = false;
  }
  if (options.deleteUploadedAfterMs !== undefined && !ctx.signal.aborted) {
    try {
      await deleteUploaded({ archiveDir, ageMs: options.deleteUploadedAfterMs, dryRun: false, log });
    } catch (error) {
      log.error('removing uploaded archives failed', { error: describeError(error) });
      reporter?.capture(error, { directory: archiveDir });
      return { exitCode: EXIT_FAILED, summary };
    }
  }
  return { exitCode: summary.failed || summary.notDone || summary.fatal ? EXIT_FAILED : EXIT_OK, summary };
}
