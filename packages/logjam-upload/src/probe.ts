// HEAD on a key before writing it: free, this very file (or our claim for it), or another object.
import type { PassContext } from './context.js';
import { claimOf } from './claim.js';
import type { Local } from './local.js';
import { isOtherToolsMultipart, partSizeFor } from './multipart.js';
import { sdk } from './sdk.js';
import { httpStatus, isBucketError, MD5_METADATA, plainEtag } from './s3.js';

export type ProbeState = 'missing' | 'same' | 'different' | 'unknown';

/** HEAD: is the key free, does it hold this very file (or our claim for it), or something else? */
export async function probe(
  ctx: PassContext,
  bucket: string,
  key: string,
  local: Local,
): Promise<ProbeState | 'claimed'> {
  try {
    const head = await ctx.client.send(new (sdk().s3.HeadObjectCommand)({ Bucket: bucket, Key: key }));
    const claim = claimOf(head, local);
    if (claim) {
      local.claim = claim;
      return 'claimed';
    }
    return sameObject(head, local) ||
      (await isOtherToolsMultipart(head, local, [ctx.partSize, partSizeFor(local.size, ctx) ?? ctx.partSize], ctx))
      ? 'same'
      : 'different';
  } catch (error) {
    const status = httpStatus(error);
    if (status === 404) return 'missing';
    // Without s3:ListBucket, S3 answers 403 for a missing key.
    if (status === 403 && !isBucketError(error)) return 'unknown';
    throw error;
  }
}

/** Same size, and the same MD5: from our metadata, or a single-part ETag (as the Python tool's uploads have). */
export function sameObject(
  head: {
    ContentLength?: number | undefined;
    ETag?: string | undefined;
    Metadata?: Record<string, string> | undefined;
  },
  local: { size: number; md5: string },
): boolean {
  if (head.ContentLength !== local.size) return false;
  const recorded = head.Metadata?.[MD5_METADATA];
  if (recorded) return recorded.toLowerCase() === local.md5;
  return plainEtag(head.ETag) === local.md5;
}
