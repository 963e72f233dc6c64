// One pass over ARCHIVE_DIR: every pending archive goes to S3 exactly once.
//
// For each file: digest it (size, MD5), HEAD its key. The same object already
// there (same size and MD5) only needs its marker. A different object is never
// overwritten: the file goes to a conflict key beside it. Otherwise a PUT with
// If-None-Match: * (so two hosts racing cannot overwrite each other), carrying
// Content-MD5 (so the store checks every byte) and the MD5 in metadata (so a
// later HEAD can recognise a multipart object, whose ETag is no MD5). The
// marker is written only after S3 confirmed. A lost response is an unknown,
// not a failure: HEAD tells whether the object landed.
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { S3Client, ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import { ConfigError, errorCode, formatBytes, oneLine, type Logger, type LogName } from '@logjam/core';
import { archiveName, listExpired, listPending, markerDir, MarkerWriter, removeUploaded, type PendingScanner } from './ledger.js';
import { loadSdk, sdk } from './sdk.js';
import { Digester } from './digest.js';
import { partSizeFor, uploadMultipart, type MultipartSettings } from './multipart.js';
import { checkStoredMd5, contentMd5, describeError, FileBody, httpStatus, isBucketError, plainEtag, s3Code } from './s3.js';
import { conflictValues, fieldValues, renderKey, s3Uri, type Template } from './template.js';

/** The object metadata (x-amz-meta-logjam-md5) holding the file's MD5 in hex. */
export const MD5_METADATA = 'logjam-md5';
/** Files up to this size are read whole into memory (one read serves the MD5 and the PUT); larger ones are streamed. */
export const WHOLE_FILE_MAX = 1024 * 1024;
const MAX_CONFLICTS = 99;

export interface UploadSettings extends MultipartSettings {
  archiveDir: string;
  template: Template;
  hostname: string;
  jobs: number;
  storageClass?: string | undefined;
  sse?: string | undefined;
  sseKmsKeyId?: string | undefined;
}

export interface PassContext extends UploadSettings {
  /** Made by createClient with the same stop signal as `signal`: it aborts the requests in flight. */
  client: S3Client;
  log: Logger;
  signal: AbortSignal;
  /** Cleared when the store answers If-None-Match with 501: it has no conditional writes. */
  conditionalWrites: { supported: boolean };
  /** Cleared when ListObjectsV2 is refused (no s3:ListBucket): HEAD per file from then on. */
  listing?: { supported: boolean };
  /** A service's scanner, which skips re-reading an unchanged, idle folder; without it every pass lists the folder. */
  scanner?: PendingScanner;
  /** Called as each pending file is done with, with the error that failed it if any (progress bar, Sentry). */
  onFileDone?: (name: string, error?: unknown) => void;
}

export interface PassSummary {
  pending: number;
  uploaded: number;
  alreadyThere: number;
  conflicts: number;
  failed: number;
  notDone: number;
  bytes: number;
  /** Set when the bucket or the credentials failed: no file can succeed. */
  fatal?: Error;
}

type Outcome = 'uploaded' | 'already' | 'conflict-uploaded' | 'conflict-already' | 'vanished';

class Fatal extends Error {}

/** What one pass shares between its files: the marker writer, and the listings of key prefixes. */
interface PassState {
  markers: MarkerWriter;
  lister: Lister;
  /** Bytes of whole files held in memory for single PUTs, across all jobs. */
  memory: ByteBudget;
}

/**
 * Bytes of small files' bodies in memory at once, whatever --jobs is. Files
 * past the budget wait for earlier ones to finish (at least one always proceeds).
 */
export const MEMORY_BUDGET = 32 * 1024 * 1024;

export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(bytes: number): Promise<() => void> {
    while (this.used > 0 && this.used + bytes > this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      for (const wake of this.waiting.splice(0)) wake();
    };
  }
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

  constructor(
    private readonly settings: MultipartSettings & { archiveDir: string; jobs: number; signal: AbortSignal; scanner?: PendingScanner | undefined; log?: Logger | undefined },
  ) {
    this.digester = new Digester(settings.signal, (reason) => settings.log?.warn('the digest worker is unavailable; computing MD5s on the main thread', { error: reason }));
    this.pending = (settings.scanner ? settings.scanner.list() : listPending(settings.archiveDir)).then((list) => {
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
    for (const item of this.ahead.splice(0)) await item.then((opened) => opened.local?.handle?.close()).catch(() => {});
  }

  private fill(): void {
    const list = this.list;
    if (!list || this.closed) return;
    while (this.ahead.length < Math.max(1, this.settings.jobs) && this.index < list.length && !this.settings.signal.aborted) {
      const log = list[this.index++]!;
      const item = openLocal(this.settings, this.digester, log, path.join(this.settings.archiveDir, log.name)).then(
        (local) => ({ log, local }),
        (error: unknown) => ({ log, local: null, error }),
      );
      this.ahead.push(item);
    }
  }
}

interface Opened {
  log: LogName;
  /** null: it vanished (removed by someone else meanwhile), or `error` says why it cannot be read. */
  local: Local | null;
  error?: unknown;
}

/** Uploads every pending archive, `jobs` at a time; one failing file does not stop the others. */
export async function uploadPass(ctx: PassContext, prepared: PreparedPass = new PreparedPass(ctx)): Promise<PassSummary> {
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
  const state: PassState = { markers: new MarkerWriter(ctx.archiveDir), lister: new Lister(ctx, pending), memory: new ByteBudget(MEMORY_BUDGET) };
  const summary: PassSummary = { pending: pending.length, uploaded: 0, alreadyThere: 0, conflicts: 0, failed: 0, notDone: 0, bytes: 0 };
  /** Files uploaded and marked whose markers wait for their folder fsync; each settles its file in the summary. */
  const settling: Array<Promise<void>> = [];
  const count = (outcome: Outcome, bytes: number) => {
    if (outcome === 'uploaded' || outcome === 'conflict-uploaded') {
      summary.uploaded += 1;
      summary.bytes += bytes;
    }
    if (outcome === 'already' || outcome === 'conflict-already') summary.alreadyThere += 1;
    if (outcome.startsWith('conflict')) summary.conflicts += 1;
  };
  const fail = (log: LogName, error: unknown): unknown => {
    if (ctx.signal.aborted) {
      ctx.log.info('upload interrupted; no marker written', { file: log.name });
      summary.notDone += 1;
      return undefined;
    }
    if (error instanceof Fatal) {
      summary.fatal ??= new ConfigError(error.message);
      summary.notDone += 1;
      return undefined;
    }
    return failed(log, error);
  };
  const failed = (log: LogName, error: unknown): unknown => {
    ctx.log.error('upload failed; will retry on the next run', { file: log.name, error: describeError(error) });
    summary.failed += 1;
    return error;
  };
  const worker = async () => {
    for (;;) {
      if (ctx.signal.aborted || summary.fatal) return;
      const item = prepared.take();
      if (!item) return;
      const { log, local, error: unreadable } = await item;
      try {
        if (unreadable !== undefined) throw unreadable;
        const { outcome, bytes, durable } = await uploadFile(ctx, state, local);
        // The job moves on; the file counts once its marker is durable (one fsync covers many).
        settling.push(
          durable.then(
            () => {
              count(outcome, bytes);
              ctx.onFileDone?.(log.name);
            },
            (error: unknown) => ctx.onFileDone?.(log.name, failed(log, error)),
          ),
        );
      } catch (error) {
        ctx.onFileDone?.(log.name, fail(log, error));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(ctx.jobs, pending.length)) }, worker));
  await Promise.all(settling);
  summary.notDone += pending.length - prepared.taken;
  const fields = {
    pending: summary.pending,
    uploaded: summary.uploaded,
    already: summary.alreadyThere,
    conflicts: summary.conflicts,
    failed: summary.failed,
    left: summary.notDone,
    bytes: summary.bytes,
    size: formatBytes(summary.bytes),
    ms: Date.now() - started,
  };
  ctx.log.info('pass done', fields);
  return summary;
}

interface Local {
  log: LogName;
  file: string;
  size: number;
  /** Hex; empty for a small file until loadBody has read it. */
  md5: string;
  /** For a file that goes multipart: its part size, and each part's MD5 (hex), taken in the same read as `md5`. */
  parts?: { size: number; md5s: string[] };
  /** The whole file, when it is small (WHOLE_FILE_MAX); larger files are streamed from disk. */
  body?: Buffer;
  /** A small file, open until loadBody reads it whole (and sets body and md5). */
  handle?: FileHandle;
  /** Gives the body's bytes back to the pass's memory budget. */
  release?: () => void;
}

/** What became of one file; `durable` resolves once its marker (if any) is durable, and rejects with what to fix if it cannot be. */
interface FileResult {
  outcome: Outcome;
  bytes: number;
  durable: Promise<void>;
}

async function uploadFile(ctx: PassContext, pass: PassState, local: Local | null): Promise<FileResult> {
  if (!local) return { outcome: 'vanished', bytes: 0, durable: Promise.resolve() };
  try {
    await loadBody(pass, local);
    return await uploadLocal(ctx, pass, local.log, local);
  } finally {
    await local.handle?.close();
    local.release?.();
  }
}

async function uploadLocal(ctx: PassContext, pass: PassState, log: LogName, local: Local): Promise<FileResult> {
  const bucket = ctx.template.bucket;
  const primaryKey = renderKey(ctx.template, fieldValues(log, ctx.hostname));

  for (let n = 0; n <= MAX_CONFLICTS; n += 1) {
    if (ctx.signal.aborted) throw new Error('aborted');
    const key = n === 0 ? primaryKey : renderKey(ctx.template, conflictValues(log, ctx.hostname, n));
    const uri = s3Uri(bucket, key);
    // The primary key of a file among many under one prefix: the prefix's listing answers, else HEAD.
    const state = (n === 0 ? await pass.lister.lookup(key, local) : null) ?? (await probe(ctx, key, local));
    if (state === 'same') {
      const { durable } = await mark(ctx, pass, log.name, uri);
      ctx.log.info('already in S3; marked as uploaded', { file: log.name, uri });
      return { outcome: n === 0 ? 'already' : 'conflict-already', bytes: 0, durable };
    }
    if (state === 'different') {
      ctx.log.warn('a different object already holds this key; not overwriting it', { file: log.name, uri });
      continue;
    }
    // missing, or unknown (HEAD refused: no s3:ListBucket): a conditional PUT decides.
    const started = Date.now();
    const result = await put(ctx, key, local);
    if (result === 'exists') {
      // Someone (another host, or our own lost response) wrote the key meanwhile.
      const again = await probe(ctx, key, local);
      if (again === 'same') {
        const { durable } = await mark(ctx, pass, log.name, uri);
        ctx.log.info('already in S3; marked as uploaded', { file: log.name, uri });
        return { outcome: n === 0 ? 'already' : 'conflict-already', bytes: 0, durable };
      }
      ctx.log.warn('a different object already holds this key; not overwriting it', { file: log.name, uri });
      continue;
    }
    const { durable } = await mark(ctx, pass, log.name, uri);
    const fields = { file: log.name, uri, bytes: local.size, ms: Date.now() - started };
    if (n === 0) ctx.log.info('uploaded', fields);
    else ctx.log.warn('uploaded beside a different object of the same key', { ...fields, taken: s3Uri(bucket, primaryKey) });
    return { outcome: n === 0 ? 'uploaded' : 'conflict-uploaded', bytes: local.size, durable };
  }
  throw new Error(`${MAX_CONFLICTS} conflict keys are all taken`);
}

/**
 * Creates the marker, and returns the promise that it becomes durable. When
 * either fails, the error says that S3 has the file and what to fix (the next
 * run only re-checks it).
 */
async function mark(ctx: PassContext, pass: PassState, name: string, uri: string): Promise<{ durable: Promise<void> }> {
  const explain = (error: unknown) => {
    const dir = markerDir(ctx.archiveDir);
    const code = errorCode(error);
    const fix =
      code === 'EACCES' || code === 'EPERM'
        ? `make ${dir} writable by this user (uid ${process.getuid?.() ?? '?'})`
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? `free some space for ${dir}`
          : `check ${dir}`;
    return new Error(`in S3 as ${uri}, but cannot write its marker in ${dir} (${code ?? oneLine(error)}): ${fix}; the next run finds it in S3 and only writes the marker`);
  };
  let durable: Promise<void>;
  try {
    ({ durable } = await pass.markers.create(name));
  } catch (error) {
    throw explain(error);
  }
  return { durable: durable.catch((error: unknown) => Promise.reject(explain(error))) };
}

/**
 * Opens a pending file: its size, and for a file streamed from disk its MD5
 * and, if it goes multipart, its parts' MD5s (read through once, here,
 * possibly ahead of its upload). A small file is left open, to be read whole
 * when its upload starts (loadBody), so that its bytes are in memory only
 * while they are being sent. Null when it vanished (removed by someone else meanwhile).
 */
async function openLocal(settings: MultipartSettings, digester: Digester, log: LogName, file: string): Promise<Local | null> {
  let handle;
  try {
    // O_NOFOLLOW: a symbolic link named like an archive is never followed (logjam-compress makes none).
    // O_NONBLOCK: a FIFO named like one does not block the open; it is refused below.
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw new Error(`${file} is a symbolic link; logjam-upload uploads only regular files and does not follow links`);
    throw new Error(`cannot read ${file}: ${code ?? String(error)}`);
  }
  let keepOpen = false;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if (stat.size <= WHOLE_FILE_MAX) {
      keepOpen = true;
      return { log, file, size: stat.size, md5: '', handle };
    }
    const partSize = partSizeFor(stat.size, settings);
    const { size, md5, partMd5s } = await digester.digest(handle, partSize);
    if (partSize !== null && size !== stat.size) throw new Error(`${file} changed while it was read (${stat.size} bytes, then ${size})`);
    return { log, file, size, md5, ...(partSize !== null && partMd5s ? { parts: { size: partSize, md5s: partMd5s } } : {}) };
  } finally {
    if (!keepOpen) await handle.close();
  }
}

/** Reads a small file opened by openLocal whole, within the pass's memory budget: its body and MD5. */
async function loadBody(pass: PassState, local: Local): Promise<void> {
  const handle = local.handle;
  if (!handle) return;
  // One read of the size fstat gave (FileHandle.readFile would fstat again and read in chunks
  // to EOF: a third of the per-file CPU for small archives). Archives do not change once written.
  local.release = await pass.memory.acquire(local.size);
  const body = Buffer.allocUnsafe(local.size);
  let filled = 0;
  while (filled < body.length) {
    const { bytesRead } = await handle.read(body, filled, body.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  // Closed now rather than after the upload: fewer descriptors open at once.
  local.handle = undefined;
  await handle.close();
  const data = filled === body.length ? body : body.subarray(0, filled);
  local.body = data;
  local.size = data.length;
  local.md5 = createHash('md5').update(data).digest('hex');
}

type ProbeState = 'missing' | 'same' | 'different' | 'unknown';

/** Pending files under one key prefix from which one listing replaces their HEADs. */
export const LIST_MIN_FILES = 4;
/** Listing pages (1,000 keys each) allowed per pending file of the prefix: a page costs about what a few HEADs do. */
const FILES_PER_LIST_PAGE = 4;

interface Listing {
  /** Key -> size and ETag (lower case, no quotes). */
  objects: Map<string, { size: number | undefined; etag: string | undefined }>;
  /** When the listing stopped early: keys after this one (in S3's UTF-8 order) are unknown. */
  until?: Buffer;
}

/**
 * One ListObjectsV2 per key prefix ("folder") that holds at least
 * LIST_MIN_FILES pending files, instead of a HEAD per file: a key the listing
 * lacks is free (the PUT is conditional anyway, so a key taken meanwhile
 * still answers 412), and a key listed with this file's size and MD5 as its
 * ETag holds this very file. Anything else (a multipart ETag, an SSE-KMS one,
 * a different object) is left to HEAD, as is everything when the listing is
 * refused (no s3:ListBucket) or fails, and when the store has no conditional writes.
 */
class Lister {
  private readonly groups = new Map<string, { prefix: string; files: number; listing?: Promise<Listing | null> }>();

  constructor(
    private readonly ctx: PassContext,
    pending: LogName[],
  ) {
    const keys = new Map<string, string[]>();
    for (const log of pending) {
      let key: string;
      try {
        key = renderKey(ctx.template, fieldValues(log, ctx.hostname));
      } catch {
        continue; // the file fails on its own, later
      }
      const folder = key.slice(0, key.lastIndexOf('/') + 1);
      const list = keys.get(folder);
      if (list) list.push(key);
      else keys.set(folder, [key]);
    }
    for (const [folder, list] of keys) {
      if (list.length >= LIST_MIN_FILES) this.groups.set(folder, { prefix: commonPrefix(list), files: list.length });
    }
  }

  /** What the listing says of the key: 'missing', 'same', or null when HEAD must tell. */
  async lookup(key: string, local: { size: number; md5: string }): Promise<'missing' | 'same' | null> {
    if (this.ctx.listing?.supported === false) return null;
    const group = this.groups.get(key.slice(0, key.lastIndexOf('/') + 1));
    if (!group || !key.startsWith(group.prefix)) return null;
    group.listing ??= this.list(group.prefix, Math.max(1, Math.ceil(group.files / FILES_PER_LIST_PAGE)));
    const listing = await group.listing;
    if (!listing) return null;
    const entry = listing.objects.get(key);
    if (!entry) {
      if (listing.until && Buffer.compare(Buffer.from(key), listing.until) > 0) return null;
      return this.ctx.conditionalWrites.supported ? 'missing' : null;
    }
    return entry.size === local.size && entry.etag === local.md5 ? 'same' : null;
  }

  private async list(prefix: string, maxPages: number): Promise<Listing | null> {
    const objects: Listing['objects'] = new Map();
    let token: string | undefined;
    try {
      for (let page = 1; ; page += 1) {
        const out = await this.ctx.client.send(new (sdk().s3.ListObjectsV2Command)({ Bucket: this.ctx.template.bucket, Prefix: prefix, ContinuationToken: token }));
        let last = '';
        for (const object of out.Contents ?? []) {
          if (object.Key === undefined) continue;
          objects.set(object.Key, { size: object.Size, etag: plainEtag(object.ETag) });
          last = object.Key;
        }
        if (!out.IsTruncated || !out.NextContinuationToken) return { objects };
        if (page >= maxPages) return { objects, until: Buffer.from(last) };
        token = out.NextContinuationToken;
      }
    } catch (error) {
      if (httpStatus(error) === 403 || s3Code(error) === 'AccessDenied') {
        if (this.ctx.listing) this.ctx.listing.supported = false;
        this.ctx.log.debug('listing refused (no s3:ListBucket?); asking per file (HEAD)', { prefix, error: describeError(error) });
      } else {
        this.ctx.log.debug('listing failed; asking per file (HEAD)', { prefix, error: describeError(error) });
      }
      return null;
    }
  }
}

/** The longest common prefix of some keys (in UTF-16 code units, cut before a lone surrogate). */
function commonPrefix(keys: string[]): string {
  let prefix = keys[0] ?? '';
  for (const key of keys) {
    let i = 0;
    while (i < prefix.length && i < key.length && prefix.charCodeAt(i) === key.charCodeAt(i)) i += 1;
    prefix = prefix.slice(0, i);
  }
  const last = prefix.charCodeAt(prefix.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? prefix.slice(0, -1) : prefix;
}

/** HEAD: is the key free, does it hold this very file, or something else? */
async function probe(ctx: PassContext, key: string, local: Local): Promise<ProbeState> {
  try {
    const head = await ctx.client.send(new (sdk().s3.HeadObjectCommand)({ Bucket: ctx.template.bucket, Key: key }));
    return sameObject(head, local) ? 'same' : 'different';
  } catch (error) {
    const status = httpStatus(error);
    if (status === 404) return 'missing';
    // Without s3:ListBucket, S3 answers 403 for a missing key.
    if (status === 403 && !isBucketError(error)) return 'unknown';
    if (isBucketError(error)) throw new Fatal(bucketMessage(ctx, error));
    throw error;
  }
}

/** Same size, and the same MD5: from our metadata, or a single-part ETag (as the Python tool's uploads have). */
export function sameObject(head: { ContentLength?: number | undefined; ETag?: string | undefined; Metadata?: Record<string, string> | undefined }, local: { size: number; md5: string }): boolean {
  if (head.ContentLength !== local.size) return false;
  const recorded = head.Metadata?.[MD5_METADATA];
  if (recorded) return recorded.toLowerCase() === local.md5;
  return plainEtag(head.ETag) === local.md5;
}

function bucketMessage(ctx: PassContext, error: unknown): string {
  return `cannot write to bucket '${ctx.template.bucket}': ${describeError(error)}`;
}

/** Uploads to a key; 'exists' when a conditional write found the key taken. */
async function put(ctx: PassContext, key: string, local: Local): Promise<'done' | 'exists'> {
  for (;;) {
    const conditional = ctx.conditionalWrites.supported;
    try {
      if (local.parts) await putMultipart(ctx, key, local, local.parts, conditional);
      else await putSingle(ctx, key, local, conditional);
      return 'done';
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      const status = httpStatus(error);
      const code = s3Code(error);
      if (status === 412 || code === 'PreconditionFailed') return 'exists';
      if (conditional && (status === 501 || code === 'NotImplemented')) {
        ctx.log.warn('the store does not support conditional writes (If-None-Match); relying on HEAD alone', { error: describeError(error) });
        ctx.conditionalWrites.supported = false;
        continue;
      }
      if (isBucketError(error)) throw new Fatal(bucketMessage(ctx, error));
      // Lost response, timeout, reset after the SDK's retries: did it land?
      if (status === undefined || status >= 500 || status === 409) {
        const state = await probe(ctx, key, local).catch(() => 'unknown' as const);
        if (state === 'same') {
          ctx.log.info('the upload failed, but S3 has the object: it landed', { key, error: describeError(error) });
          return 'done';
        }
      }
      throw error;
    }
  }
}

function commonParams(ctx: PassContext, key: string, local: Local, conditional: boolean) {
  return {
    Bucket: ctx.template.bucket,
    Key: key,
    Metadata: { [MD5_METADATA]: local.md5 },
    ...(conditional ? { IfNoneMatch: '*' } : {}),
    ...(ctx.storageClass ? { StorageClass: ctx.storageClass as StorageClass } : {}),
    ...(ctx.sse ? { ServerSideEncryption: ctx.sse as ServerSideEncryption } : {}),
    ...(ctx.sseKmsKeyId ? { SSEKMSKeyId: ctx.sseKmsKeyId } : {}),
  };
}

/**
 * One PUT: the small file's bytes, or the file streamed from disk (a FileBody,
 * which the client opens afresh for every attempt, so that the SDK's retries
 * work as for bytes in memory). The store checks the bytes against Content-MD5.
 */
async function putSingle(ctx: PassContext, key: string, local: Local, conditional: boolean): Promise<void> {
  const result = await ctx.client.send(
    new (sdk().s3.PutObjectCommand)({
      ...commonParams(ctx, key, local, conditional),
      // A FileBody is no type the SDK knows; it never reaches the SDK's HTTP handler (reopenFileBodies).
      Body: local.body ?? (new FileBody(local.file, local.size) as unknown as Uint8Array),
      ContentLength: local.size,
      ContentMD5: contentMd5(local.md5),
    }),
  );
  // The store checked Content-MD5; where the ETag is the MD5 (no KMS), check it too.
  checkStoredMd5(result.ETag, local.md5, ctx.sse);
}

/** Multipart, each part streamed from disk with its own Content-MD5 (multipart.ts); then HEAD confirms what landed. */
async function putMultipart(ctx: PassContext, key: string, local: Local, parts: { size: number; md5s: string[] }, conditional: boolean): Promise<void> {
  const { IfNoneMatch: _conditional, ...params } = commonParams(ctx, key, local, conditional);
  await uploadMultipart(ctx.client, params, { file: local.file, size: local.size, partSize: parts.size, partMd5s: parts.md5s }, conditional);
  // Confirm what landed: the size, and our MD5 in its metadata.
  const state = await probe(ctx, key, local);
  if (state === 'different') throw new Error('after the multipart upload, S3 holds a different object');
}

export interface CleanupSettings {
  archiveDir: string;
  ageMs: number;
  dryRun: boolean;
  log: Logger;
  now?: number;
}

/** --delete-uploaded-after: removes archives (and markers) that S3 confirmed longer ago than ageMs. */
export async function deleteUploaded(settings: CleanupSettings): Promise<number> {
  const expired = await listExpired(settings.archiveDir, settings.ageMs, settings.now);
  let removed = 0;
  for (const { name, uploadedAt } of expired) {
    const since = new Date(uploadedAt).toISOString();
    if (settings.dryRun) {
      settings.log.info('would remove uploaded archive', { file: name, uploaded: since });
      continue;
    }
    const { archiveRemoved } = await removeUploaded(settings.archiveDir, name);
    if (archiveRemoved) {
      removed += 1;
      settings.log.info('removed uploaded archive', { file: name, uploaded: since });
    } else {
      settings.log.debug('removed a marker whose archive was gone', { file: name });
    }
  }
  return removed;
}

/** For --dry-run: the pending files and the URIs they would go to (conflicts cannot be known without asking S3). */
export async function plan(settings: Pick<UploadSettings, 'archiveDir' | 'template' | 'hostname'>): Promise<Array<{ file: string; uri: string }>> {
  const pending = await listPending(settings.archiveDir);
  return pending.map((log) => ({
    file: path.join(settings.archiveDir, log.name),
    uri: s3Uri(settings.template.bucket, renderKey(settings.template, fieldValues(log, settings.hostname))),
  }));
}

/** Whether a path seen by the watcher may be a new archive. */
export function isArchivePath(file: string): boolean {
  return archiveName(path.basename(file)) !== null;
}
