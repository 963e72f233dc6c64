// --audit, one marked archive: is the object at its key (or at one of its
// conflict keys) this very archive? Settled from a listing's size and ETag
// where it can be; a HEAD only where the listing cannot tell (an ETag that is
// no MD5 of these bytes: SSE-KMS, or a multipart ETag at an unknown part size).
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { errorCode, namePath, oneLine, type Logger, type LogName } from '@logjam/core';
import { isMultipartEtagOf, OTHER_TOOLS_PART_SIZES, type Digester } from './digest.js';
import { MIN_PART_SIZE, partSizeFor, type MultipartSettings } from './multipart.js';
import { describeError, httpStatus, MD5_METADATA, plainEtag } from './s3.js';
import { sdk } from './sdk.js';
import { conflictValues, renderKey, type Template } from './template.js';

/** What S3 holds at a key, as a listing (or a HEAD) says: size and ETag (lower case, no quotes). */
export interface StoredObject {
  size: number | undefined;
  etag: string | undefined;
}

/** Where an archive's keys are looked up: its folder's listing (no request), or HEAD per key where listing is refused. */
export interface ObjectSource {
  get(key: string): Promise<StoredObject | null>;
}

export type ProblemKind = 'missing' | 'different' | 'truncated' | 'unknown';

/** The verdict on one marker: intact (at its key, or at conflict key `conflict`), a problem, or `removed` (no archive here to compare). */
export type Verdict =
  | { kind: 'intact'; key: string; conflict?: number; detail?: string }
  | { kind: ProblemKind | 'removed'; key: string; detail: string };

type Comparison = { same: true } | { same: false; kind: 'different' | 'truncated' | 'unknown'; detail: string };

export interface AuditContext {
  client: S3Client;
  digester: Digester;
  template: Template;
  hostname: string;
  /** The part sizes this audit was told logjam uploads with (--multipart-threshold, --part-size). */
  multipart: MultipartSettings;
  signal: AbortSignal;
  log: Logger;
}

/** The size-only verdict, before any byte is read: fewer bytes in S3 is a truncation, more a different object. */
export function compareSize(stored: number | undefined, local: number): Comparison | null {
  if (stored === undefined || stored === local) return null;
  return stored < local
    ? { same: false, kind: 'truncated', detail: `${stored} bytes in S3, ${local} in the archive` }
    : { same: false, kind: 'different', detail: `${stored} bytes in S3, ${local} in the archive` };
}

/** logjam's defaults (--multipart-threshold 200M, --part-size 8M), for objects uploaded before the options changed. */
const DEFAULT_MULTIPART: MultipartSettings = { multipartThreshold: 200 * 1024 * 1024, partSize: 8 * 1024 * 1024 };

/**
 * The part sizes a multipart object of `size` bytes may have been uploaded
 * with: logjam's own (partSizeFor) at these settings, at its defaults and at
 * the smallest threshold, then other tools' (the AWS CLI's 8 MiB, 5 MiB, 16 MiB).
 * A match at any of them is a proof (the ETag is an MD5 of the parts' MD5s), not a guess.
 */
export function candidatePartSizes(size: number, settings: MultipartSettings): number[] {
  const logjams = [settings, DEFAULT_MULTIPART, { multipartThreshold: MIN_PART_SIZE, partSize: settings.partSize }];
  const sizes = logjams.map(
    (s) =>
      partSizeFor(size, { multipartThreshold: Math.min(s.multipartThreshold, size), partSize: s.partSize }) ??
      s.partSize,
  );
  return [...new Set([...sizes, ...OTHER_TOOLS_PART_SIZES])];
}

/** An archive open for reading: its size, and its MD5 taken once, when first needed. */
class OpenArchive {
  private md5: Promise<string> | undefined;

  constructor(
    readonly handle: FileHandle,
    readonly size: number,
    private readonly ctx: AuditContext,
  ) {}

  wholeMd5(): Promise<string> {
    this.md5 ??= this.ctx.digester.digest(this.handle, null).then((digest) => {
      if (digest.size !== this.size)
        throw new Error(`the archive changed while it was read (${this.size} bytes, then ${digest.size})`);
      return digest.md5;
    });
    return this.md5;
  }
}

/** Whether the object at `key` is the archive, from its size and ETag; a HEAD only when they cannot tell. */
async function compare(
  ctx: AuditContext,
  bucket: string,
  key: string,
  stored: StoredObject,
  archive: OpenArchive,
): Promise<Comparison> {
  const bySize = compareSize(stored.size, archive.size);
  if (bySize) return bySize;
  const etag = stored.etag ?? '';
  if (/^[0-9a-f]{32}$/.test(etag)) {
    const md5 = await archive.wholeMd5();
    if (etag === md5) return { same: true };
    // An SSE-KMS object's ETag is no MD5: only a HEAD tells it from other bytes.
    const head = await headInfo(ctx, bucket, key);
    if (head.kms) return kmsVerdict(head, md5);
    return { same: false, kind: 'different', detail: `ETag ${etag} in S3, MD5 ${md5} of the archive` };
  }
  const parts = /^[0-9a-f]{32}-(\d+)$/.exec(etag);
  if (parts) {
    const tried = candidatePartSizes(archive.size, ctx.multipart);
    if (await isMultipartEtagOf(etag, { handle: archive.handle, size: archive.size }, tried, ctx.signal))
      return { same: true };
    // The part size it was uploaded with: part 1's length, where the store answers a HEAD of one part.
    // A store that refuses a part number (or ignores it: no part count) leaves the part size unknown.
    const head = await headInfo(ctx, bucket, key, 1).catch((error: unknown) => {
      if (ctx.signal.aborted || httpStatus(error) === 404) throw error;
      ctx.log.debug('a HEAD of part 1 failed: the part size stays unknown', { key, error: describeError(error) });
      return { kms: false, recordedMd5: undefined, length: undefined, partsCount: undefined };
    });
    if (head.kms) return kmsVerdict(head, await archive.wholeMd5());
    const partSize = head.partsCount === Number(parts[1]) ? head.length : undefined;
    if (partSize === undefined) {
      const sizes = tried.map((s) => `${s / 1024 / 1024}M`).join(', ');
      return {
        same: false,
        kind: 'unknown',
        detail: `multipart ETag ${etag} matches the archive at none of the part sizes ${sizes}, and the store does not say the size it was uploaded with`,
      };
    }
    if (
      tried.includes(partSize) ||
      !(await isMultipartEtagOf(etag, { handle: archive.handle, size: archive.size }, [partSize], ctx.signal))
    ) {
      return {
        same: false,
        kind: 'different',
        detail: `multipart ETag ${etag} in S3 is not the archive's at the part size it was uploaded with (${partSize} bytes)`,
      };
    }
    return { same: true };
  }
  return {
    same: false,
    kind: 'unknown',
    detail: `ETag '${etag}' is neither an MD5 nor a multipart ETag; the bytes cannot be compared without downloading them`,
  };
}

function kmsVerdict(head: HeadInfo, md5: string): Comparison {
  if (head.recordedMd5 && head.recordedMd5 !== md5)
    return {
      same: false,
      kind: 'different',
      detail: `the MD5 recorded at upload (${head.recordedMd5}) is not the archive's (${md5})`,
    };
  return {
    same: false,
    kind: 'unknown',
    detail:
      'SSE-KMS: its ETag is no MD5, so the bytes cannot be compared without downloading them (size and recorded MD5 match)',
  };
}

interface HeadInfo {
  kms: boolean;
  recordedMd5: string | undefined;
  /** With a part number: the part's length and the object's part count, where the store tells them. */
  length: number | undefined;
  partsCount: number | undefined;
}

async function headInfo(ctx: AuditContext, bucket: string, key: string, partNumber?: number): Promise<HeadInfo> {
  const head = await ctx.client.send(
    new (sdk().s3.HeadObjectCommand)({ Bucket: bucket, Key: key, ...(partNumber ? { PartNumber: partNumber } : {}) }),
  );
  const sse = head.ServerSideEncryption ?? '';
  return {
    kms: sse.startsWith('aws:kms'),
    recordedMd5: head.Metadata?.[MD5_METADATA]?.toLowerCase(),
    length: head.ContentLength,
    partsCount: head.PartsCount,
  };
}

/** HEAD per key: for a bucket whose listing is refused (no s3:ListBucket). */
export function headSource(client: S3Client, bucket: string): ObjectSource {
  return {
    async get(key) {
      try {
        const head = await client.send(new (sdk().s3.HeadObjectCommand)({ Bucket: bucket, Key: key }));
        return { size: head.ContentLength, etag: plainEtag(head.ETag) };
      } catch (error) {
        if (httpStatus(error) === 404) return null;
        throw error;
      }
    },
  };
}

const MAX_CONFLICTS = 99;

/** The verdict on the marker `log` (its archive in `archiveDir`), its primary key `key` in `bucket`. */
export async function auditArchive(
  ctx: AuditContext,
  archiveDir: string,
  log: LogName,
  target: { bucket: string; key: string },
  source: ObjectSource,
): Promise<Verdict> {
  const { key } = target;
  let handle: FileHandle;
  try {
    // As the upload: never through a link, and a FIFO does not block the open.
    handle = await fs.open(
      namePath(archiveDir, log.name),
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
    );
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return removedVerdict(ctx, log, key, source);
    if (code === 'ELOOP') return { kind: 'unknown', key, detail: 'the archive is a symbolic link; not followed' };
    return { kind: 'unknown', key, detail: `cannot read the archive: ${code ?? oneLine(error)}` };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return { kind: 'unknown', key, detail: 'the archive is not a regular file' };
    const archive = new OpenArchive(handle, stat.size, ctx);
    return await versus(ctx, log, target, source, archive);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    return {
      kind: 'unknown',
      key,
      detail: `cannot compare: ${httpStatus(error) !== undefined ? describeError(error) : oneLine(error)}`,
    };
  } finally {
    await handle.close();
  }
}

/** The primary key, then the conflict keys in the order the upload tries them (each taken by another object before the next). */
async function versus(
  ctx: AuditContext,
  log: LogName,
  target: { bucket: string; key: string },
  source: ObjectSource,
  archive: OpenArchive,
): Promise<Verdict> {
  const { bucket, key } = target;
  const primary = await source.get(key);
  const atPrimary = primary ? await compare(ctx, bucket, key, primary, archive) : null;
  if (atPrimary?.same) return { kind: 'intact', key };
  for (let n = 1; n <= MAX_CONFLICTS; n += 1) {
    const conflictKey = renderKey(ctx.template, conflictValues(log, ctx.hostname, n));
    const stored = await source.get(conflictKey);
    if (!stored) break;
    if ((await compare(ctx, bucket, conflictKey, stored, archive)).same) {
      return {
        kind: 'intact',
        key: conflictKey,
        conflict: n,
        detail: `a conflict copy: ${key} holds ${primary ? 'another object' : 'nothing'}`,
      };
    }
  }
  if (!atPrimary) return { kind: 'missing', key, detail: 'no object at its key' };
  if (atPrimary.same) return { kind: 'intact', key };
  return { kind: atPrimary.kind, key, detail: atPrimary.detail };
}

/** A marker whose archive is gone (--delete-uploaded-after, or by hand): only that an object is there can be checked. */
async function removedVerdict(ctx: AuditContext, log: LogName, key: string, source: ObjectSource): Promise<Verdict> {
  const primary = await source.get(key);
  if (primary)
    return {
      kind: 'removed',
      key,
      detail: `the archive is gone (removed after upload?); S3 holds ${primary.size ?? '?'} bytes at its key: their size and content cannot be checked here`,
    };
  const conflictKey = renderKey(ctx.template, conflictValues(log, ctx.hostname, 1));
  if (await source.get(conflictKey))
    return {
      kind: 'removed',
      key: conflictKey,
      detail:
        'the archive is gone (removed after upload?); a conflict copy is at its conflict key: its size and content cannot be checked here',
    };
  return { kind: 'missing', key, detail: 'no object at its key, and the archive is gone too' };
}
