// One file to S3, exactly once. HEAD (or the prefix's listing) its key: the
// same object already there (same size and MD5) only needs its marker. A
// different object is never overwritten: the file goes to a conflict key beside
// it. Otherwise a PUT with If-None-Match: * (so two hosts racing cannot
// overwrite each other), carrying Content-MD5 (so the store checks every byte)
// and the MD5 in metadata (so a later HEAD can recognise a multipart object,
// whose ETag is no MD5). The marker is written only after S3 confirmed. A lost
// response is an unknown, not a failure: HEAD tells whether the object landed.
import { type LogName } from '@logjam/core';
import { checkBeforeComplete, claimKey, KeyTaken, releaseClaim } from './claim.js';
import { objectParams, settingsRefused } from './conditional.js';
import type { PassContext } from './context.js';
import type { MarkerWriter } from './ledger.js';
import type { Lister } from './lister.js';
import { abortOrphans } from './orphans.js';
import { mark } from './mark.js';
import { probe } from './probe.js';
import { closeLocal, loadBody, type ByteBudget, type Local } from './local.js';
import { uploadMultipart } from './multipart.js';
import { FileBody } from './client-steps.js';
import { putObject } from './direct-put.js';
import {
  checkStoredMd5,
  contentMd5,
  describeError,
  httpStatus,
  isBucketError,
  isThrottling,
  MD5_METADATA,
  s3Code,
} from './s3.js';
import { conflictValues, fieldValues, fixedBucket, renderBucket, renderKey, s3Uri } from './template.js';

export { MarkerError } from './mark.js';
export { sameObject } from './probe.js';

const MAX_CONFLICTS = 99;

/** What one pass shares between its files: the marker writer, the listings of key prefixes, the memory for bodies. */
export interface PassState {
  markers: MarkerWriter;
  /** Buckets found missing (or refused) in this pass, with why: their other files fail at once. */
  badBuckets: Map<string, string>;
  lister: Lister;
  /** Bytes of whole files held in memory for single PUTs, across all jobs. */
  memory: ByteBudget;
  /** Unfinished multipart uploads of earlier runs found at the keys written, and aborted. */
  orphans: number;
}

export type Outcome = 'uploaded' | 'already' | 'conflict-uploaded' | 'conflict-already' | 'vanished';

/** The bucket or the credentials failed: no file of the pass can succeed. */
export class Fatal extends Error {}

/** What became of one file; `durable` resolves once its marker (if any) is durable, and rejects with what to fix if it cannot be. */
export interface FileResult {
  outcome: Outcome;
  bytes: number;
  durable: Promise<void>;
}

/** Uploads one opened file (null: it vanished) and writes its marker. */
export async function uploadFile(ctx: PassContext, pass: PassState, local: Local | null): Promise<FileResult> {
  if (!local) return { outcome: 'vanished', bytes: 0, durable: Promise.resolve() };
  try {
    await loadBody(pass.memory, local);
    return await uploadLocal(ctx, pass, local.log, local);
  } finally {
    closeLocal(local);
    local.release?.();
  }
}

async function uploadLocal(ctx: PassContext, pass: PassState, log: LogName, local: Local): Promise<FileResult> {
  const values = fieldValues(log, ctx.hostname);
  const target = { bucket: renderBucket(ctx.template, values), key: renderKey(ctx.template, values) };
  const bad = pass.badBuckets.get(target.bucket);
  if (bad) throw new Error(bad);
  try {
    return await uploadTo(ctx, pass, log, local, target);
  } catch (error) {
    const code = s3Code(error);
    // With a field in the bucket name, a missing (or refused) bucket fails its own files only.
    if (fixedBucket(ctx.template) === undefined && (code === 'NoSuchBucket' || code === 'AccessDenied')) {
      const message = `cannot write to bucket '${target.bucket}': ${describeError(error)}`;
      pass.badBuckets.set(target.bucket, message);
      throw new Error(message);
    }
    if (isBucketError(error)) throw new Fatal(`cannot write to bucket '${target.bucket}': ${describeError(error)}`);
    throw error;
  }
}

async function uploadTo(
  ctx: PassContext,
  pass: PassState,
  log: LogName,
  local: Local,
  target: { bucket: string; key: string },
): Promise<FileResult> {
  const { bucket, key: primaryKey } = target;
  const already = async (n: number, uri: string): Promise<FileResult> => {
    const { durable } = await mark(ctx, pass.markers, log.name, uri);
    ctx.log.info('already in S3; marked as uploaded', { file: log.name, uri });
    return { outcome: n === 0 ? 'already' : 'conflict-already', bytes: 0, durable };
  };

  for (let n = 0; n <= MAX_CONFLICTS; n += 1) {
    if (ctx.signal.aborted) throw new Error('aborted');
    const key = n === 0 ? primaryKey : renderKey(ctx.template, conflictValues(log, ctx.hostname, n));
    const uri = s3Uri(bucket, key);
    // A single PUT to a store whose If-None-Match answers for it goes first: one request per new
    // file, HEAD only after a 412. Else, and once a key of its folder turned out taken (markers
    // lost, say), the prefix's listing answers for the primary key of a file among many under one
    // prefix; HEAD for the rest.
    const putFirst = ctx.conditionalWrites.put && !local.parts;
    const listed =
      n === 0 && (!putFirst || pass.lister.folderTaken(bucket, key))
        ? await pass.lister.lookup(bucket, key, local)
        : null;
    const state = listed ?? (putFirst ? 'missing' : await probe(ctx, bucket, key, local));
    if (state === 'same') return already(n, uri);
    if (state === 'different') {
      ctx.log.warn('a different object already holds this key; not overwriting it', { file: log.name, uri });
      continue;
    }
    // missing, claimed by us, or unknown (HEAD refused: no s3:GetObject): a conditional write decides.
    const started = Date.now();
    const result = await put(ctx, pass, bucket, key, local);
    if (result === 'exists') {
      const again = await recheckTaken(ctx, pass, { bucket, key, primary: n === 0 }, local, log);
      if (again === 'same') return already(n, uri);
      // Our own claim (its PUT landed, its answer was lost, the retry got 412): the key is ours; go on there.
      if (again === 'claimed') n -= 1;
      continue;
    }
    const { durable } = await mark(ctx, pass.markers, log.name, uri);
    const fields = { file: log.name, uri, bytes: local.size, ms: Date.now() - started };
    if (n === 0) ctx.log.info('uploaded', fields);
    else
      ctx.log.warn('uploaded beside a different object of the same key', {
        ...fields,
        taken: s3Uri(bucket, primaryKey),
      });
    return { outcome: n === 0 ? 'uploaded' : 'conflict-uploaded', bytes: local.size, durable };
  }
  throw new Error(`${MAX_CONFLICTS} conflict keys are all taken`);
}

/** A conditional write found the key taken: by an object already there (markers lost), another host, or our own lost response. */
async function recheckTaken(
  ctx: PassContext,
  pass: PassState,
  target: { bucket: string; key: string; primary: boolean },
  local: Local,
  log: LogName,
): Promise<'same' | 'claimed' | 'other'> {
  const { bucket, key } = target;
  if (target.primary) pass.lister.noteTaken(bucket, key);
  const again = await probe(ctx, bucket, key, local);
  if (again === 'same' || again === 'claimed') return again;
  const uri = s3Uri(bucket, key);
  if (again === 'unknown')
    ctx.log.warn(
      'the key is taken, and HEAD is refused (no s3:GetObject?), so it cannot be compared; not overwriting it',
      { file: log.name, uri },
    );
  else ctx.log.warn('a different object already holds this key; not overwriting it', { file: log.name, uri });
  return 'other';
}

/** Uploads to a key; 'exists' when a conditional write (or the check before a Complete) found the key taken. */
async function put(
  ctx: PassContext,
  pass: PassState,
  bucket: string,
  key: string,
  local: Local,
): Promise<'done' | 'exists'> {
  for (;;) {
    // Our own claim at the key is ours to replace.
    const conditional = ctx.conditionalWrites.put && local.claim === undefined;
    try {
      if (local.parts) await putMultipart(ctx, pass, bucket, key, local, local.parts);
      else await putSingle(ctx, bucket, key, local, conditional);
      return 'done';
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      const status = httpStatus(error);
      const code = s3Code(error);
      if (error instanceof KeyTaken || status === 412 || code === 'PreconditionFailed') return 'exists';
      if (conditional && (status === 501 || code === 'NotImplemented')) {
        ctx.log.warn('the store does not support conditional writes (If-None-Match); relying on HEAD alone', {
          error: describeError(error),
        });
        ctx.conditionalWrites.put = false;
        ctx.conditionalWrites.complete = false;
        continue;
      }
      const refused = settingsRefused(error, ctx);
      if (refused) throw refused;
      if (isBucketError(error)) throw error;
      // Lost response, timeout, reset after the SDK's retries: did it land? (Not after
      // throttling: S3 refused the request before acting on it, and a HEAD would only add load.)
      if ((status === undefined || status >= 500 || status === 409) && !isThrottling(error)) {
        const state = await probe(ctx, bucket, key, local).catch(() => 'unknown' as const);
        if (state === 'same') {
          ctx.log.info('the upload failed, but S3 has the object: it landed', { key, error: describeError(error) });
          return 'done';
        }
      }
      throw error;
    }
  }
}

/** The Content-Type stored with an archive: zstd's registered type for `.zst` (which readers such as Athena go by); none otherwise, as before. */
export function contentTypeOf(name: string): { ContentType?: string } {
  return name.endsWith('.zst') ? { ContentType: 'application/zstd' } : {};
}

function commonParams(ctx: PassContext, bucket: string, key: string, local: Local, conditional: boolean) {
  return {
    Bucket: bucket,
    Key: key,
    ...contentTypeOf(local.log.name),
    Metadata: { [MD5_METADATA]: local.md5 },
    ...(conditional ? { IfNoneMatch: '*' } : {}),
    ...objectParams(ctx),
  };
}

/**
 * One PUT: the small file's bytes, or the file streamed from disk (a FileBody,
 * which the client opens afresh for every attempt, so that the SDK's retries
 * work as for bytes in memory). The store checks the bytes against Content-MD5.
 */
async function putSingle(
  ctx: PassContext,
  bucket: string,
  key: string,
  local: Local,
  conditional: boolean,
): Promise<void> {
  // Bytes in memory go directly where the client already sent one (direct-put.ts).
  const result = await putObject(ctx.client, {
    ...commonParams(ctx, bucket, key, local, conditional),
    // A FileBody is no type the SDK knows; it never reaches the SDK's HTTP handler (reopenFileBodies).
    Body: local.body ?? (new FileBody(local.file, local.size) as unknown as Uint8Array),
    ContentLength: local.size,
    ContentMD5: contentMd5(local.md5),
  });
  // The store checked Content-MD5; where the ETag is the MD5 (no KMS), check it too.
  checkStoredMd5(result.ETag, local.md5, ctx.sse);
}

/**
 * Multipart, each part streamed from disk with its own Content-MD5
 * (multipart.ts); then HEAD confirms what landed. Where the store honours
 * If-None-Match on Complete, that guards the key; where it honours it only on
 * PutObject (Ceph RGW 16), a claim does (claim.ts).
 */
async function putMultipart(
  ctx: PassContext,
  pass: PassState,
  bucket: string,
  key: string,
  local: Local,
  parts: { size: number; md5s: string[] },
): Promise<void> {
  const params = commonParams(ctx, bucket, key, local, false);
  const target = { bucket, key };
  const guard = ctx.conditionalWrites.complete;
  const claim = guard
    ? undefined
    : (local.claim ?? (ctx.conditionalWrites.put ? await claimKey(ctx, target, local.md5) : undefined));
  try {
    pass.orphans += await abortOrphans(ctx, target, local.log.name);
    await uploadMultipart(
      ctx.client,
      params,
      { file: local.file, size: local.size, partSize: parts.size, partMd5s: parts.md5s },
      { ifNoneMatch: guard, beforeComplete: guard ? undefined : () => checkBeforeComplete(ctx, target, claim) },
    );
  } catch (error) {
    if (claim !== undefined && !(error instanceof KeyTaken)) await releaseClaim(ctx, target, claim);
    throw error;
  }
  local.claim = undefined;
  // Confirm what landed: the size, and our MD5 in its metadata.
  const state = await probe(ctx, bucket, key, local);
  if (state === 'different' || state === 'claimed')
    throw new Error('after the multipart upload, S3 holds a different object');
}
