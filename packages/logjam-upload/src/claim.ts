// A multipart upload's hold on its key where the store honours If-None-Match
// on PutObject but not on CompleteMultipartUpload (Ceph RGW 16): the key is
// first claimed with an empty object written with If-None-Match (a racing
// logjam, or any conditional writer, finds it taken), and right before Complete
// a HEAD checks that the key still holds that claim or nothing, so that an
// object written meanwhile is not replaced. Left open is only an unconditional
// write between that HEAD and the Complete.
import { createHash, randomBytes } from 'node:crypto';
import { objectParams } from './write-settings.js';
import type { PassContext } from './context.js';
import { sdk } from './sdk.js';
import { contentMd5, describeError, httpStatus, MD5_METADATA } from './s3.js';
import { s3Uri } from './template.js';

/** Where an object goes: its bucket (which may depend on the file) and key. */
export interface ObjectTarget {
  bucket: string;
  key: string;
}

/** The metadata of a claim: an empty object that holds a key for the multipart upload of the file whose MD5 it names. */
const CLAIM_METADATA = 'logjam-claim';

const EMPTY_MD5 = createHash('md5').digest('hex');

/** Thrown when the key was found taken right before a Complete. */
export class KeyTaken extends Error {}

/** Writes the claim (If-None-Match: *): a 412 when the key is taken. Returns its token. */
export async function claimKey(ctx: PassContext, target: ObjectTarget, md5: string): Promise<string> {
  const token = randomBytes(12).toString('hex');
  await ctx.client.send(
    new (sdk().s3.PutObjectCommand)({
      Bucket: target.bucket,
      Key: target.key,
      Body: new Uint8Array(0),
      ContentMD5: contentMd5(EMPTY_MD5),
      IfNoneMatch: '*',
      Metadata: { [CLAIM_METADATA]: token, [MD5_METADATA]: md5 },
      ...objectParams(ctx),
    }),
  );
  return token;
}

/** The token of a claim of ours for this file (same MD5) at the key, if that is what HEAD found. */
export function claimOf(
  head: { ContentLength?: number | undefined; Metadata?: Record<string, string> | undefined },
  local: { md5: string },
): string | undefined {
  const token = head.Metadata?.[CLAIM_METADATA];
  return token && head.ContentLength === 0 && head.Metadata?.[MD5_METADATA] === local.md5 ? token : undefined;
}

/**
 * Removes our claim after a failed or stopped upload, so that no empty object
 * stays at the key: only when HEAD shows it is still ours (a delete has no
 * condition a store like RGW 16 honours). Its own deadline, as an abort's.
 */
export async function releaseClaim(ctx: PassContext, target: ObjectTarget, claim: string): Promise<void> {
  const { s3 } = sdk();
  const options = { abortSignal: AbortSignal.timeout(5_000) };
  try {
    const head = await ctx.client.send(new s3.HeadObjectCommand({ Bucket: target.bucket, Key: target.key }), options);
    if (head.Metadata?.[CLAIM_METADATA] === claim)
      await ctx.client.send(new s3.DeleteObjectCommand({ Bucket: target.bucket, Key: target.key }), options);
  } catch (error) {
    ctx.log.debug('cannot remove the claim of a failed upload; the next run replaces it', {
      key: target.key,
      error: describeError(error),
    });
  }
}

/** Before a Complete the store would not refuse: the key must hold nothing, or our claim. */
export async function checkBeforeComplete(
  ctx: PassContext,
  target: ObjectTarget,
  claim: string | undefined,
): Promise<void> {
  try {
    const head = await ctx.client.send(new (sdk().s3.HeadObjectCommand)({ Bucket: target.bucket, Key: target.key }), {
      abortSignal: ctx.signal,
    });
    if (claim === undefined || head.Metadata?.[CLAIM_METADATA] !== claim)
      throw new KeyTaken(`the key was written while the multipart upload ran: ${s3Uri(target.bucket, target.key)}`);
  } catch (error) {
    if (error instanceof KeyTaken) throw error;
    const status = httpStatus(error);
    if (status === 404) return;
    // HEAD refused (no s3:GetObject): the claim, written with If-None-Match, is what holds the key.
    if (status === 403 && claim !== undefined) return;
    if (status === 403) {
      ctx.log.debug('cannot check the key before completing (HEAD refused), and the store has no conditional writes', {
        key: target.key,
      });
      return;
    }
    throw error;
  }
}
