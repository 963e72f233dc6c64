// One pass of a run, from the one listing of pending archives it makes: the
// bucket re-checked if it failed, the store's capabilities learned, the
// uploads, --delete-uploaded-after; then the metrics, from the same listing.
import path from 'node:path';
import {
  displayName,
  EXIT_FAILED,
  EXIT_OK,
  showPaths,
  type BacklogItem,
  type LogName,
  type PassMetricsWriter,
} from '@logjam/core';
import type { PassContext, PassSummary } from './context.js';
import { backlogOf, uploadBacklog, writeUploadMetrics } from './monitor.js';
import { PreparedPass, scanPending, untried, uploadPass } from './pass.js';
import { deleteUploaded } from './retention.js';
import type { RunOptions } from './run-options.js';
import { describeError } from './s3.js';
import type { BucketCheck, StoreCapabilities, StoreWrites } from './store.js';
import { fixedBucket } from './template.js';

export interface PassOutcome {
  exitCode: number;
  summary?: PassSummary;
  /** The pending archives the pass left (by its listing), for the metrics. */
  backlog: BacklogItem[];
}

/** What a pass of the run works with beyond its context. */
export interface PassRun {
  options: RunOptions;
  bucket: BucketCheck;
  store: StoreWrites;
  /** Sizes of the pending files, for the progress bar. */
  sizes: Map<string, number>;
}

/** A pass's context but for what the store honours, which each pass is given anew. */
export type PassBase = Omit<PassContext, 'conditionalWrites' | 'listing'>;

/**
 * One pass, by one listing of pending archives: `early`'s (the first pass's, begun at set-up), or made
 * here; the files are read ahead only once the bucket is known usable.
 */
export async function onePass(run: PassRun, ctx: PassBase, early: PreparedPass | undefined): Promise<PassOutcome> {
  const pending = await (early?.pending ?? scanPending(ctx)).catch(async (error: unknown) => {
    await early?.close();
    throw error;
  });
  if (!(await bucketUsable(run, ctx, pending))) {
    await early?.close();
    return { exitCode: EXIT_FAILED, backlog: await backlogFor(run.options, ctx.archiveDir, pending) };
  }
  const prepared = early ?? new PreparedPass(ctx, Promise.resolve(pending));
  if (run.options.progress) showTotal(run, await backlogOf(ctx.archiveDir, pending));
  const { summary, capabilities } = await uploads(run.store, ctx, prepared, pending);
  run.options.progress?.done();
  await run.bucket.afterPass(summary, Date.now());
  await run.store.afterPass(capabilities);
  const exitCode = await afterUploads(run, ctx, summary);
  return {
    exitCode,
    summary,
    backlog: await backlogFor(
      run.options,
      ctx.archiveDir,
      pending.filter((log) => !summary.settled?.has(log.name)),
    ),
  };
}

/** The backlog the metrics file shows: the pending files `left` unsettled, stat'd now (nothing without a metrics file). */
export async function backlogFor(
  options: Pick<RunOptions, 'metricsFile'>,
  archiveDir: string,
  left: LogName[],
): Promise<BacklogItem[]> {
  return options.metricsFile === undefined ? [] : [...(await backlogOf(archiveDir, left)).values()];
}

/** The bucket, re-checked before a pass when the last check failed: false when it is still not usable. */
async function bucketUsable(run: PassRun, ctx: PassBase, pending: LogName[]): Promise<boolean> {
  if (run.bucket.checked) return true;
  const { log, reporter, template } = run.options;
  try {
    await run.bucket.check(pending);
    return true;
  } catch (error) {
    log.error('the bucket is still not usable', {
      bucket: fixedBucket(template) ?? template.source,
      error: describeError(error),
    });
    reporter?.capture(error, { directory: ctx.archiveDir });
    return false;
  }
}

function showTotal(run: PassRun, backlog: Map<string, BacklogItem>): void {
  if (!run.options.progress) return;
  const items = [...backlog.values()];
  for (const item of items) run.sizes.set(path.basename(item.file), item.bytes);
  run.options.progress.addTotal(
    items.length,
    items.reduce((sum, item) => sum + item.bytes, 0),
  );
}

/** The store's capabilities (learned when anything is pending), then the uploads with them. */
async function uploads(
  store: StoreWrites,
  ctx: PassBase,
  prepared: PreparedPass,
  pending: LogName[],
): Promise<{ summary: PassSummary; capabilities: StoreCapabilities }> {
  let capabilities = store.current();
  if (pending.length > 0) {
    try {
      capabilities = await store.learn(pending);
    } catch (error) {
      await prepared.close();
      return { summary: untried(ctx, pending.length, error), capabilities };
    }
  }
  return { summary: await uploadPass({ ...ctx, ...capabilities }, prepared), capabilities };
}

/** After the uploads: a configuration error (a service goes on, the bucket re-checked next pass), then --delete-uploaded-after; the exit code. */
async function afterUploads(run: PassRun, ctx: PassBase, summary: PassSummary): Promise<number> {
  const { options } = run;
  const { log, reporter } = options;
  const { archiveDir } = ctx;
  if (summary.fatal) {
    if (options.once) throw summary.fatal;
    log.error(summary.fatal.message);
    reporter?.capture(summary.fatal, { directory: archiveDir });
    run.bucket.checked = false;
  }
  if (!(await retention(options, archiveDir, ctx.signal))) return EXIT_FAILED;
  return summary.failed || summary.notDone || summary.fatal ? EXIT_FAILED : EXIT_OK;
}

/** --delete-uploaded-after, after every pass that was not stopped: false when it failed (said, reported). */
export async function retention(options: RunOptions, archiveDir: string, signal: AbortSignal): Promise<boolean> {
  const { log, reporter } = options;
  if (options.deleteUploadedAfterMs === undefined || signal.aborted) return true;
  try {
    await deleteUploaded({ archiveDir, ageMs: options.deleteUploadedAfterMs, dryRun: false, log });
    return true;
  } catch (error) {
    log.error('removing uploaded archives failed', { error: describeError(error) });
    reporter?.capture(error, { directory: archiveDir });
    return false;
  }
}

/** What every pass shares, but for its stop signal; the progress bar and the reporter hear of each file. */
export function passContext(
  options: RunOptions,
  sizes: Map<string, number>,
  run: Pick<PassContext, 'archiveDir' | 'hostname' | 'client' | 'scanner' | 'requests'>,
): Omit<PassBase, 'signal'> {
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
    // A service's pass (its child too) says an idle pass at debug.
    quietWhenIdle: !options.once || options.servicePass !== undefined,
    onFileDone: (name, error) => {
      options.progress?.advance(sizes.get(displayName(name)) ?? 0);
      if (error !== undefined) options.reporter?.capture(error, { directory: showPaths(run.archiveDir), file: name });
    },
  };
}

/** A --once run that found the lock held: counted, neither a pass nor a failure. */
export function skippedWriter(options: RunOptions, archiveDir: string): PassMetricsWriter<undefined> {
  return {
    file: options.metricsFile,
    log: options.log,
    reporter: options.reporter,
    write: async (file) => {
      const now = Date.now();
      await writeUploadMetrics(file, {
        summary: undefined,
        succeeded: false,
        ran: false,
        skippedLocked: 1,
        durationMs: 0,
        backlog: await uploadBacklog(archiveDir),
        now,
      });
    },
  };
}

/** After every pass: the pass's counts (none when it threw: it failed as a whole) and the backlog it left (listed again only after a throw). */
export function metricsWriter(options: RunOptions, archiveDir: string): PassMetricsWriter<PassOutcome> {
  return {
    file: options.metricsFile,
    log: options.log,
    reporter: options.reporter,
    write: async (file, result, durationMs) => {
      const now = Date.now();
      const succeeded = (result?.exitCode ?? EXIT_FAILED) === EXIT_OK;
      const backlog = result?.backlog ?? (await uploadBacklog(archiveDir));
      await writeUploadMetrics(file, { summary: result?.summary, succeeded, durationMs, backlog, now });
    },
  };
}
