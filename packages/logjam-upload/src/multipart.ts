// Multipart uploads, each part streamed from disk (a FileBody, like a large
// single PUT) rather than copied into memory: memory stays flat whatever the
// part size, and every attempt of the SDK's retries re-reads the part from the
// file. The parts' MD5s are taken in the same read as the file's own MD5
// (digest.ts), so each part carries a Content-MD5 the store checks.
import type { CompletedPart, CreateMultipartUploadCommandInput, S3Client } from '@aws-sdk/client-s3';
import { constants, promises as fs } from 'node:fs';
import type { Logger } from '@logjam/core';
import { FileBody } from './client-steps.js';
import { isMultipartEtagOf, OTHER_TOOLS_PART_SIZES } from './digest.js';
import { checkStoredMd5, contentMd5, MD5_METADATA, plainEtag } from './s3.js';
import { sdk } from './sdk.js';

/** S3's smallest part. */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest single PUT, and largest part. */
export const MAX_PUT_SIZE = 5 * 1024 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Parts of one multipart upload in flight at once. Each holds only a read stream's buffer (1 MB), not the part. */
export const PARTS_IN_FLIGHT = 2;
/** How long the AbortMultipartUpload of a failed upload may take, even after SIGTERM. */
const ABORT_TIMEOUT_MS = 5_000;

export interface MultipartSettings {
  /** Files this size or larger go multipart. */
  multipartThreshold: number;
  /** The wanted part size (never more than multipartThreshold; larger to stay within 10,000 parts). */
  partSize: number;
}

/** The size of a file's parts, or null when it goes in one PUT. */
export function partSizeFor(fileSize: number, settings: MultipartSettings): number | null {
  if (fileSize < settings.multipartThreshold) return null;
  return Math.max(
    Math.min(settings.partSize, settings.multipartThreshold),
    MIN_PART_SIZE,
    Math.ceil(fileSize / MAX_PARTS),
  );
}

export interface MultipartFile {
  file: string | Buffer;
  size: number;
  partSize: number;
  /** Hex, one per part (digest.ts). */
  partMd5s: string[];
}

export interface CompletionGuard {
  /** Complete with If-None-Match: * (the store refuses it with 412 when the key is taken). */
  ifNoneMatch: boolean;
  /** Called once every part is in, right before Complete; a throw aborts the upload. */
  beforeComplete?: (() => Promise<void>) | undefined;
}

/**
 * CreateMultipartUpload, the parts (PARTS_IN_FLIGHT at a time, each checked
 * against its Content-MD5 and its ETag), CompleteMultipartUpload. `params`
 * are the object's (bucket, key, metadata, storage class, SSE); `guard` keeps
 * the completion from replacing an object. Any failure aborts the upload, so
 * that no orphaned parts are left to be billed.
 */
export async function uploadMultipart(
  client: S3Client,
  params: CreateMultipartUploadCommandInput & { Bucket: string; Key: string },
  file: MultipartFile,
  guard: CompletionGuard,
): Promise<void> {
  const { s3 } = sdk();
  const count = Math.max(1, Math.ceil(file.size / file.partSize));
  if (file.partMd5s.length !== count)
    throw new Error(`internal error: ${file.partMd5s.length} part MD5s for ${count} parts`);
  const created = await client.send(new s3.CreateMultipartUploadCommand(params));
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error('CreateMultipartUpload answered without an UploadId');
  const target = { Bucket: params.Bucket, Key: params.Key, UploadId: uploadId };
  try {
    const parts: CompletedPart[] = new Array(count);
    let next = 0;
    let failure: { error: unknown } | undefined;
    const sendParts = async () => {
      while (next < count && !failure) {
        const index = next++;
        try {
          parts[index] = await uploadPart(
            client,
            { ...target, PartNumber: index + 1 },
            file,
            params.ServerSideEncryption,
          );
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    // Every part in flight settles before the upload is completed or aborted (a part
    // that lands after the abort would be left behind).
    await Promise.all(Array.from({ length: Math.min(PARTS_IN_FLIGHT, count) }, sendParts));
    if (failure) throw failure.error;
    await guard.beforeComplete?.();
    await client.send(
      new s3.CompleteMultipartUploadCommand({
        ...target,
        MultipartUpload: { Parts: parts },
        ...(guard.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      }),
    );
  } catch (error) {
    // Its own deadline rather than the run's stop signal, so that a SIGTERM still cleans up.
    await client
      .send(new s3.AbortMultipartUploadCommand(target), { abortSignal: AbortSignal.timeout(ABORT_TIMEOUT_MS) })
      .catch(() => {});
    throw error;
  }
}

/** One part, sent with its Content-MD5 and checked against the ETag the store answers. */
async function uploadPart(
  client: S3Client,
  target: { Bucket: string; Key: string; UploadId: string; PartNumber: number },
  file: MultipartFile,
  sse: CreateMultipartUploadCommandInput['ServerSideEncryption'],
): Promise<CompletedPart> {
  const { s3 } = sdk();
  const index = target.PartNumber - 1;
  const start = index * file.partSize;
  const length = Math.min(file.partSize, file.size - start);
  const md5 = file.partMd5s[index]!;
  const result = await client.send(
    new s3.UploadPartCommand({
      ...target,
      // A FileBody is no type the SDK knows; it never reaches the SDK's HTTP handler (reopenFileBodies).
      Body: new FileBody(file.file, length, start) as unknown as Uint8Array,
      ContentLength: length,
      ContentMD5: contentMd5(md5),
    }),
  );
  // A part's ETag is its MD5 unless the store encrypts with KMS.
  checkStoredMd5(result.ETag, md5, sse, ` for part ${index + 1}`);
  return { PartNumber: target.PartNumber, ETag: result.ETag };
}

/**
 * An object of another tool (no logjam-md5 metadata) with a multipart ETag:
 * the same file when the ETag is the file's at a part size that tool may have
 * used (8 MiB for the AWS CLI, 5 MiB, 16 MiB, or logjam's own: `ownPartSizes`).
 */
export async function isOtherToolsMultipart(
  head: {
    ContentLength?: number | undefined;
    ETag?: string | undefined;
    Metadata?: Record<string, string> | undefined;
  },
  local: {
    file: string | Buffer;
    size: number;
    parts?: { size: number; md5s: string[] } | undefined;
    log: { name: string };
  },
  ownPartSizes: number[],
  ctx: { signal: AbortSignal; log: Logger },
): Promise<boolean> {
  const etag = plainEtag(head.ETag);
  if (head.Metadata?.[MD5_METADATA] || head.ContentLength !== local.size || !etag?.includes('-')) return false;
  const handle = await fs.open(local.file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const partSizes = [...OTHER_TOOLS_PART_SIZES, ...ownPartSizes];
    const same = await isMultipartEtagOf(etag, { handle, size: local.size, known: local.parts }, partSizes, ctx.signal);
    if (same)
      ctx.log.debug("a multipart object of another tool, with this file's ETag", { file: local.log.name, etag });
    return same;
  } finally {
    await handle.close();
  }
}
