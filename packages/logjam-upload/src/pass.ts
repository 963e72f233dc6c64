// One pass over ARCHIVE_DIR: every pending archive goes to S3 exactly once
// (put.ts), `jobs` at a time; one failing file does not stop the others.
import { ConfigError, formatBytes, runWorkers, type Logger, type LogName } from '@logjam/core';
import type { PassContext, PassSummary } from './context.js';
import { Digester } from './digest.js';
import { listPending, MarkerWriter, type PendingScanner } from './ledger.js';
import { Lister } from './lister.js';
import { ByteBudget, closeLocal, MEMORY_BUDGET, openLocal, type Local } from './local.js';
import type { MultipartSettings } from './multipart.js';
import { Fatal, MarkerError, uploadFile, type Outcome, type PassState } from './put.js';
import { loadSdk } from './sdk.js';
import { describeError, formatRequests, isThrottling } from './s3.js';

interface Opened {
  log: LogName;
  /** null: it vanished (removed by someone else meanwhile), or `error` says why it cannot be read. */
  local: Local | null;
  error?: unknown;
}

/**
 * The start of a pass that needs no S3: the scan for pending files, and the
 * reading ahead of them (open, and for files streamed from disk the MD5 pass),
 * at most `jobs` files ahead of the uploads. A run begins it before the SDK has
 * loaded and the bucket is checked, so that the first files are digested by
 * the time the first PUT can go out.
 */
export class PreparedPass {
  readonly pending: Promise<LogName[]>;
  private readonly ahead: Array<Promise<Opened>> = [];
  private index = 0;
  private list: LogName[] | undefined;
  private closed = false;
  /** Digests the files streamed from disk on a worker thread (started on the first one). */
  private readonly digester: Digester;

  /** `listing`: the pass's listing when already made; else this scans. */
  constructor(
    private readonly settings: MultipartSettings & {
      archiveDir: string;
      jobs: number;
      signal: AbortSignal;
      scanner?: PendingScanner | undefined;
      log?: Logger | undefined;
    },
    listing: Promise<LogName[]> = scanPending(settings),
  ) {
    this.digester = new Digester(settings.signal, (reason) =>
      settings.log?.warn('the digest worker is unavailable; computing MD5s on the main thread', { error: reason }),
    );
    this.pending = listing.then((list) => {
      this.list = list;
      this.fill();
      return list;
    });
    // A scan that fails is the pass's to report, when it awaits `pending`.
    this.pending.catch(() => {});
  }

  /** The next pending file, opened (or the error that prevents it); undefined when there is none left. */
  take(): Promise<Opened> | undefined {
    const item = this.ahead.shift();
    this.fill();
    return item;
  }

  /** Taken files so far (the pass counts the rest as not done). */
  get taken(): number {
    return this.index - this.ahead.length;
  }

  /** Closes what was read ahead and not taken (a pass that stopped early). */
  async close(): Promise<void> {
    this.closed = true;
    // First the worker: what it was still digesting fails as aborted, and its file is closed.
    await this.digester.close();
    for (const item of this.ahead.splice(0)) await item.then((opened) => closeLocal(opened.local)).catch(() => {});
  }

  private fill(): void {
    const list = this.list;
    if (!list || this.closed) return;
    while (
      this.ahead.length < Math.max(1, this.settings.jobs) &&
      this.index < list.length &&
      !this.settings.signal.aborted
    ) {
      const log = list[this.index++]!;
      const item = openLocal(this.settings, this.digester, log, this.settings.archiveDir).then(
        (local) => ({ log, local }),
        (error: unknown) => ({ log, local: null, error }),
      );
      this.ahead.push(item);
    }
  }
}

/** The pending archives: by a service's scanner (which skips an unchanged, idle folder), else listed. */
export function scanPending(settings: {
  archiveDir: string;
  scanner?: PendingScanner | undefined;
}): Promise<LogName[]> {
  return settings.scanner ? settings.scanner.list() : listPending(settings.archiveDir);
}

/** Uploads every pending archive, `jobs` at a time; one failing file does not stop the others. */
export async function uploadPass(
  ctx: PassContext,
  prepared: PreparedPass = new PreparedPass(ctx),
): Promise<PassSummary> {
  const started = Date.now();
  try {
    await loadSdk();
    return await runPass(ctx, prepared, started);
  } finally {
    await prepared.close();
  }
}

async function runPass(ctx: PassContext, prepared: PreparedPass, started: number): Promise<PassSummary> {
  const pending = await prepared.pending;
  const tally = new Tally(ctx, pending.length, () => pending.length - prepared.taken);
  const state: PassState = {
    markers: new MarkerWriter(ctx.archiveDir),
    badBuckets: new Map(),
    lister: new Lister(ctx, pending),
    memory: new ByteBudget(MEMORY_BUDGET),
    orphans: 0,
  };
  /** Files uploaded and marked whose markers wait for their folder fsync; each settles its file in the summary. */
  const settling: Array<Promise<void>> = [];
  const next = () => (ctx.signal.aborted || tally.summary.fatal || tally.throttled ? undefined : prepared.take());
  await runWorkers(Math.min(ctx.jobs, pending.length), next, async (item) => {
    const { log, local, error: unreadable } = await item;
    try {
      if (unreadable !== undefined) throw unreadable;
      const { outcome, bytes, durable } = await uploadFile(ctx, state, local);
      // The job moves on; the file counts once its marker is durable (one fsync covers many).
      settling.push(
        durable.then(
          () => {
            tally.count(log, outcome, bytes);
            ctx.onFileDone?.(log.name);
          },
          (error: unknown) => ctx.onFileDone?.(log.name, tally.failed(log, error)),
        ),
      );
    } catch (error) {
      ctx.onFileDone?.(log.name, tally.fail(log, error));
    }
  });
  await Promise.all(settling);
  tally.summary.notDone += pending.length - prepared.taken;
  tally.takeRequests();
  tally.summary.orphans = state.orphans;
  checkAccounted(tally.summary);
  tally.report(started);
  return tally.summary;
}

/**
 * A pass whose store check failed before any file was tried: every file left
 * for the next run. A ConfigError ends it as fatal; after a stop (SIGTERM) the
 * error is no news; anything else is thrown.
 */
export function untried(ctx: Pick<PassContext, 'requests' | 'signal'>, pending: number, error: unknown): PassSummary {
  const summary: PassSummary = { ...emptySummary(pending), notDone: pending };
  const requests = ctx.requests?.take();
  if (requests) summary.requests = requests;
  if (ctx.signal.aborted) return summary;
  if (!(error instanceof ConfigError)) throw error;
  summary.fatal = error;
  return summary;
}

export function emptySummary(pending: number): PassSummary {
  return {
    pending,
    uploaded: 0,
    alreadyThere: 0,
    conflicts: 0,
    conflictUploads: 0,
    failed: 0,
    notDone: 0,
    vanished: 0,
    bytes: 0,
    settled: new Set(),
  };
}

/** pending = uploaded + already + conflicts + failed + left, or logjam has a bug: say so, as a failure, never silently. */
export function checkAccounted(summary: PassSummary): void {
  const accounted =
    summary.uploaded + summary.alreadyThere + summary.conflicts + summary.failed + summary.notDone + summary.vanished;
  if (accounted !== summary.pending) {
    throw new Error(
      `internal error (a bug in logjam-upload, please report it): ${summary.pending} files pending but ${accounted} accounted for (${JSON.stringify(summary)})`,
    );
  }
}

/** The pass's counts, and what each file's end adds to them. */
class Tally {
  readonly summary: PassSummary;
  /** Set when S3 still throttles after the SDK's retries: the pass starts no more files (they are left for the next run). */
  throttled = false;

  constructor(
    private readonly ctx: PassContext,
    pending: number,
    /** How many files have not been taken yet (for the throttling warning). */
    private readonly untaken: () => number,
  ) {
    this.summary = emptySummary(pending);
  }

  count(log: LogName, outcome: Outcome, bytes: number): void {
    const summary = this.summary;
    summary.settled?.add(log.name);
    summary.bytes += bytes;
    if (outcome === 'uploaded') summary.uploaded += 1;
    else if (outcome === 'already') summary.alreadyThere += 1;
    else if (outcome === 'vanished') summary.vanished += 1;
    else {
      summary.conflicts += 1;
      if (outcome === 'conflict-uploaded') summary.conflictUploads += 1;
    }
  }

  /** A file that threw: interrupted and fatal errors leave it for the next run; the error, when it failed it. */
  fail(log: LogName, error: unknown): unknown {
    if (this.ctx.signal.aborted) {
      this.ctx.log.info('upload interrupted; no marker written', { file: log.name });
      this.summary.notDone += 1;
      return undefined;
    }
    if (error instanceof Fatal || error instanceof ConfigError) {
      this.summary.fatal ??= error instanceof ConfigError ? error : new ConfigError(error.message);
      this.summary.notDone += 1;
      return undefined;
    }
    return this.failed(log, error);
  }

  failed(log: LogName, error: unknown): unknown {
    if (error instanceof MarkerError)
      this.ctx.log.error('uploaded, but not marked', { file: log.name, error: error.message });
    else
      this.ctx.log.error('upload failed; will retry on the next run', { file: log.name, error: describeError(error) });
    this.summary.failed += 1;
    if (isThrottling(error) && !this.throttled) {
      this.throttled = true;
      this.ctx.log.warn('S3 is still throttling after the retries; leaving the remaining files for the next run', {
        left: this.untaken(),
      });
    }
    return error;
  }

  /** The requests sent since the last pass's end (the probe's included). */
  takeRequests(): void {
    const requests = this.ctx.requests?.take();
    if (requests) this.summary.requests = requests;
  }

  report(started: number): void {
    const summary = this.summary;
    // A configuration error ends the run with its one line alone.
    if (summary.fatal) return;
    const idle = summary.pending === 0 && !summary.orphans;
    const say = this.ctx.quietWhenIdle && idle ? this.ctx.log.debug : this.ctx.log.info;
    sayPassDone(say, summary, Date.now() - started);
  }
}

/** A pass's summary line, `pass done pending= uploaded= …`, said by `say` (info; debug for a service's idle pass). */
export function sayPassDone(say: Logger['info'], summary: PassSummary, ms: number): void {
  say('pass done', {
    pending: summary.pending,
    uploaded: summary.uploaded,
    already: summary.alreadyThere,
    conflicts: summary.conflicts,
    failed: summary.failed,
    left: summary.notDone + summary.vanished,
    bytes: summary.bytes,
    ...(summary.orphans ? { orphans: summary.orphans } : {}),
    size: formatBytes(summary.bytes),
    ms,
    ...(summary.requests
      ? {
          requests: formatRequests(summary.requests.byMethod),
          retries: summary.requests.retries,
          throttled: summary.requests.throttled,
        }
      : {}),
  });
}
