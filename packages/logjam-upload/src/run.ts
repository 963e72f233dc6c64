// logjam-upload from checked options to an exit code: checks, lock, then one
// pass (--once, --dry-run) or the service loop.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, EXIT_FAILED, EXIT_OK, errorCode, oneLine, runService, tryLock, UsageError, waitLock, type ErrorReporter, type Lock, type Logger, type Progress } from '@logjam/core';
import { uploadBacklog, writeUploadMetrics } from './monitor.js';
import { checkBucket, checkCredentials, chooseEndpoint, createClient, credentialChain, describeError, resolveRegion } from './s3.js';
import { PendingScanner, removeLeftoverMarkerTemps } from './ledger.js';
import type { Template } from './template.js';
import { loadSdk } from './sdk.js';
import { deleteUploaded, isArchivePath, plan, PreparedPass, uploadPass, type PassContext, type PassSummary } from './upload.js';

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
}

/** ARCHIVE_DIR must be a folder named `archive`, as the Python tool demands. */
export async function checkArchiveDir(dir: string): Promise<string> {
  const resolved = path.resolve(dir);
  if (path.basename(resolved) !== 'archive') {
    throw new UsageError(`ARCHIVE_DIR must be the folder named 'archive' that logjam-compress fills (such as /var/log/hourly/archive/), not '${dir}'`);
  }
  let stat;
  try {
    stat = await fs.stat(resolved);
  } catch (error) {
    throw new ConfigError(`cannot use ARCHIVE_DIR '${dir}': ${errorCode(error) === 'ENOENT' ? 'no such folder' : String(error)}`);
  }
  if (!stat.isDirectory()) throw new ConfigError(`ARCHIVE_DIR '${dir}' is not a folder`);
  return resolved;
}

export async function runUpload(options: RunOptions): Promise<number> {
  const { log, template } = options;
  const archiveDir = await checkArchiveDir(options.archiveDir);
  const hostname = options.hostname ?? os.hostname();

  if (options.dryRun) {
    // No network, nothing written: what would go where.
    for (const { file, uri } of await plan({ archiveDir, template, hostname })) process.stdout.write(`${file} -> ${uri}\n`);
    if (options.deleteUploadedAfterMs !== undefined) await deleteUploaded({ archiveDir, ageMs: options.deleteUploadedAfterMs, dryRun: true, log });
    return EXIT_OK;
  }

  // Stop (SIGTERM / SIGINT) from the very start, so that waiting for the lock can be interrupted too.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  let lock: Lock | null = null;
  let client: S3Client | undefined;
  /** The first pass, begun before S3 is reachable (see below). */
  let early: PreparedPass | undefined;
  try {
    const lockFile = path.join(archiveDir, LOCK_NAME);
    if (options.once) {
      const attempt = await tryLock(lockFile);
      if (!attempt.acquired) {
        log.info('another logjam-upload is working on this archive folder; leaving it to it', { dir: archiveDir, pid: attempt.heldBy || undefined });
        return EXIT_OK;
      }
      lock = attempt.lock;
    } else {
      lock = await waitLock(lockFile, {
        signal: stop.signal,
        onWait: (pid) => log.info('another logjam-upload holds the archive folder; waiting for it', { dir: archiveDir, pid: pid || undefined }),
      });
      if (!lock) return EXIT_OK;
    }

    for (const name of await removeLeftoverMarkerTemps(archiveDir)) {
      log.info('removed a temporary file left by an interrupted run', { file: path.join(archiveDir, '.uploaded', name) });
    }

    // The scan and the reading ahead (MD5s of large files) need no S3: they begin
    // now, while the SDK loads and the bucket is checked, and the first pass takes them up.
    const scanner = new PendingScanner(archiveDir);
    early = new PreparedPass({ archiveDir, jobs: options.jobs, multipartThreshold: options.multipartThreshold, partSize: options.partSize, signal: stop.signal, scanner, log });

    await loadSdk();
    const { region, source } = await resolveRegion(options.region, options.env, log);
    const endpoint = chooseEndpoint(options.endpointUrl, options.env);
    log.debug('S3 settings', { region, regionFrom: source, endpoint: endpoint ?? 'AWS', bucket: template.bucket });
    const credentials = credentialChain();
    await checkCredentials(credentials, options.env, log);
    client = createClient({ region, endpoint, forcePathStyle: options.forcePathStyle, maxSockets: options.jobs * 3 + 2, env: options.env, signal: stop.signal }, credentials);

    // Start-up check: configuration errors are exit 2 in both modes.
    let bucketChecked = false;
    const check = async () => {
      const access = await checkBucket(client!, template.bucket, options.env, stop.signal);
      if (access === 'limited') log.warn('HeadBucket refused (no s3:ListBucket?); going on, the uploads will tell', { bucket: template.bucket });
      bucketChecked = true;
    };
    try {
      await check();
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      if (options.once) throw new Error(`cannot reach S3 to check bucket '${template.bucket}' (${endpoint ?? 'AWS'}): ${describeError(error)}`);
      log.warn('cannot reach the bucket yet; retrying every interval', { bucket: template.bucket, error: describeError(error) });
    }

    const ctx: Omit<PassContext, 'signal'> = {
      archiveDir,
      template,
      hostname,
      jobs: options.jobs,
      multipartThreshold: options.multipartThreshold,
      partSize: options.partSize,
      storageClass: options.storageClass,
      sse: options.sse,
      sseKmsKeyId: options.sseKmsKeyId,
      client,
      log,
      conditionalWrites: { supported: true },
      listing: { supported: true },
      scanner,
      onFileDone: (name, error) => {
        options.progress?.advance(sizes.get(name) ?? 0);
        if (error !== undefined) options.reporter?.capture(error, { directory: archiveDir, file: name });
      },
    };
    /** Sizes of the pending files, for the progress bar. */
    const sizes = new Map<string, number>();

    const onePass = async (signal: AbortSignal): Promise<{ exitCode: number; summary?: PassSummary }> => {
      const prepared = early;
      early = undefined;
      if (!bucketChecked) {
        try {
          await check();
        } catch (error) {
          await prepared?.close();
          log.error('the bucket is still not usable', { bucket: template.bucket, error: describeError(error) });
          options.reporter?.capture(error, { directory: archiveDir });
          return { exitCode: EXIT_FAILED };
        }
      }
      if (options.progress) {
        const backlog = await uploadBacklog(archiveDir);
        for (const item of backlog) sizes.set(path.basename(item.file), item.bytes);
        options.progress.addTotal(backlog.length, backlog.reduce((sum, item) => sum + item.bytes, 0));
      }
      const summary = await uploadPass({ ...ctx, signal }, prepared);
      options.progress?.done();
      if (summary.fatal) {
        if (options.once) throw summary.fatal;
        log.error(summary.fatal.message);
        options.reporter?.capture(summary.fatal, { directory: archiveDir });
        bucketChecked = false;
      }
      if (options.deleteUploadedAfterMs !== undefined && !signal.aborted) {
        try {
          await deleteUploaded({ archiveDir, ageMs: options.deleteUploadedAfterMs, dryRun: false, log });
        } catch (error) {
          log.error('removing uploaded archives failed', { error: describeError(error) });
          options.reporter?.capture(error, { directory: archiveDir });
          return { exitCode: EXIT_FAILED, summary };
        }
      }
      return { exitCode: summary.failed || summary.notDone || summary.fatal ? EXIT_FAILED : EXIT_OK, summary };
    };

    const metricsFile = options.metricsFile;
    const writeMetrics = async (result: { exitCode: number; summary?: PassSummary | undefined }, started: number) => {
      if (metricsFile === undefined) return;
      try {
        const now = Date.now();
        const backlog = await uploadBacklog(archiveDir);
        await writeUploadMetrics(metricsFile, { summary: result.summary, succeeded: result.exitCode === EXIT_OK, durationMs: now - started, backlog, now });
      } catch (error) {
        // Monitoring trouble does not fail the pass; it is said, and reported.
        log.error(`cannot write the metrics file ${metricsFile}: ${oneLine(error)}`);
        options.reporter?.capture(error, { file: metricsFile });
      }
    };

    return await runService({
      once: options.once,
      intervalMs: options.intervalMs,
      watchDirs: [archiveDir],
      isRelevant: isArchivePath,
      log,
      stop: stop.signal,
      pass: async (signal) => {
        const started = Date.now();
        let result: { exitCode: number; summary?: PassSummary | undefined } = { exitCode: EXIT_FAILED };
        try {
          result = await onePass(signal);
          return { exitCode: result.exitCode };
        } finally {
          await writeMetrics(result, started);
        }
      },
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await early?.close();
    client?.destroy();
    await lock?.release();
  }
}
