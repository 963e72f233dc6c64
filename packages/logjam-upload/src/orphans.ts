// The unfinished multipart uploads at a key, aborted before uploading to it: a
// run killed mid-upload leaves its parts behind, billed until a lifecycle rule
// removes them. Resuming them instead (ListParts, each part's ETag checked
// against the file) would save re-sending the parts already in; aborting is
// simpler and never trusts a part it did not check. A live upload of another
// host at the same key (a race) is aborted too: its Complete then fails, and
// its next run finds this object (same, or a conflict key).
import type { ObjectTarget } from './claim.js';
import type { PassContext } from './context.js';
import { sdk } from './sdk.js';
import { describeError } from './s3.js';
import { s3Uri } from './template.js';

/** Aborts the unfinished multipart uploads at `key`; how many. A store that refuses the listing is left as it is. */
export async function abortOrphans(
  ctx: Pick<PassContext, 'client' | 'log' | 'signal'>,
  target: ObjectTarget,
  file: string,
): Promise<number> {
  const { s3 } = sdk();
  const { bucket, key } = target;
  let uploads;
  try {
    uploads =
      (
        await ctx.client.send(new s3.ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }), {
          abortSignal: ctx.signal,
        })
      ).Uploads ?? [];
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    ctx.log.debug('cannot list unfinished multipart uploads; leaving them', { key, error: describeError(error) });
    return 0;
  }
  let aborted = 0;
  for (const upload of uploads.filter((u) => u.Key === key && u.UploadId)) {
    try {
      await ctx.client.send(
        new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }),
        { abortSignal: ctx.signal },
      );
      aborted += 1;
      ctx.log.info('aborted an unfinished multipart upload of an earlier run', {
        file,
        uri: s3Uri(bucket, key),
        started: upload.Initiated?.toISOString() ?? 'unknown',
      });
    } catch (error) {
      if (ctx.signal.aborted) throw error;
      ctx.log.warn('cannot abort an unfinished multipart upload; its parts stay until a lifecycle rule removes them', {
        uri: s3Uri(bucket, key),
        error: describeError(error),
      });
    }
  }
  return aborted;
}
