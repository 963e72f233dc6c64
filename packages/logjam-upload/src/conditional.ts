// What the store does with If-None-Match: * (a write that must not replace an
// existing object), learned once per process from a probe under a key of
// logjam's own, or given with --conditional-writes. AWS S3 honours it on
// PutObject and on CompleteMultipartUpload; Ceph RGW 16 on PutObject only (a
// Complete replaces whatever holds the key); s3rver and old MinIO on neither.
// The same probe carries the object settings (--storage-class, --sse,
// --sse-kms-key-id), so that a store that refuses them says so before any file
// is tried: a configuration error, not a failure per file retried forever.
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, type Logger } from '@logjam/core';
import { describeError, httpStatus, s3Code } from './s3.js';
import { sdk } from './sdk.js';

/** auto: probe; yes: PutObject and Complete; put-only: PutObject alone (Ceph RGW 16); no: neither. */
export type ConditionalWritesMode = 'auto' | 'yes' | 'put-only' | 'no';
export const CONDITIONAL_WRITES_MODES: readonly ConditionalWritesMode[] = ['auto', 'yes', 'put-only', 'no'];
const GIVEN: Record<Exclude<ConditionalWritesMode, 'auto'>, ConditionalWrites> = {
  yes: { put: true, complete: true },
  'put-only': { put: true, complete: false },
  no: { put: false, complete: false },
};

export interface ConditionalWrites {
  /** PutObject with If-None-Match: * answers 412 when the key is taken. */
  put: boolean;
  /** CompleteMultipartUpload with If-None-Match: * answers 412 when the key is taken. */
  complete: boolean;
}

/** The object settings every write carries. */
export interface ObjectSettings {
  storageClass?: string | undefined;
  sse?: string | undefined;
  sseKmsKeyId?: string | undefined;
}

export function objectParams(settings: ObjectSettings) {
  return {
    ...(settings.storageClass ? { StorageClass: settings.storageClass as never } : {}),
    ...(settings.sse ? { ServerSideEncryption: settings.sse as never } : {}),
    ...(settings.sseKmsKeyId ? { SSEKMSKeyId: settings.sseKmsKeyId } : {}),
  };
}

/** The options behind `settings`, as the user gave them: `--storage-class STANDARD_IA --sse AES256`. */
export function settingsFlags(settings: ObjectSettings): string {
  return [settings.storageClass && `--storage-class ${settings.storageClass}`, settings.sse && `--sse ${settings.sse}`, settings.sseKmsKeyId && `--sse-kms-key-id ${settings.sseKmsKeyId}`]
    .filter(Boolean)
    .join(' ');
}

/**
 * A 400 to a write that carried object settings is the settings' fault (a
 * class or an encryption the store does not offer): the configuration error
 * naming them, or null for any other error.
 */
export function settingsRefused(error: unknown, settings: ObjectSettings): ConfigError | null {
  const flags = settingsFlags(settings);
  if (!flags || httpStatus(error) !== 400) return null;
  return new ConfigError(`the store refused ${flags} (${s3Code(error) || 'HTTP 400'}); leave the option out, or choose a value the store offers`);
}

export interface LearnSettings extends ObjectSettings {
  client: S3Client;
  bucket: string;
  /** The custom endpoint, or undefined for AWS. */
  endpoint: string | undefined;
  mode: ConditionalWritesMode;
  /** Where the probe writes: a folder of the bucket that logjam writes to (the template's fixed start). */
  probePrefix: string;
  log: Logger;
  signal?: AbortSignal | undefined;
}

const PROBE_FOLDER = '.logjam-probe/';

/**
 * The store's conditional writes: from --conditional-writes yes|no, assumed on
 * AWS, else probed. A probe also runs to check the object settings when there
 * are any. Throws ConfigError when the store refuses the settings.
 */
export async function learnConditionalWrites(settings: LearnSettings): Promise<ConditionalWrites> {
  const given = settings.mode !== 'auto' ? { ...GIVEN[settings.mode] } : settings.endpoint === undefined ? { ...GIVEN.yes } : null;
  if (given && !settingsFlags(settings)) return given;
  const learned = await probe(settings, given === null);
  if (given) return given;
  // A probe that could not finish (refused by a policy, say) proves nothing: assume neither, the safe
  // side, and leave the telling to the uploads (a bucket refused altogether is their one-line error).
  if (!learned) return { put: false, complete: false };
  const found = learned;
  const fields = { bucket: settings.bucket };
  if (!found.put) settings.log.info('the store does not support conditional writes (If-None-Match); relying on HEAD alone, which a racing writer can beat', fields);
  else if (!found.complete) settings.log.info('the store honours If-None-Match on PutObject but not on CompleteMultipartUpload; multipart uploads claim their key first', fields);
  else settings.log.debug('the store honours If-None-Match on PutObject and CompleteMultipartUpload', fields);
  return found;
}

/**
 * Writes an empty object under PREFIX.logjam-probe/RANDOM with If-None-Match: *
 * twice (the second must be refused) and completes a one-part multipart upload
 * onto it with If-None-Match: * (must be refused too), then deletes it. With
 * `conditional` false, only the first write (the settings check) and the delete.
 * Null when the probe could not tell.
 */
async function probe(settings: LearnSettings, conditional: boolean): Promise<ConditionalWrites | null> {
  const { s3 } = sdk();
  const { client, bucket, log } = settings;
  const key = `${settings.probePrefix}${PROBE_FOLDER}${randomBytes(8).toString('hex')}`;
  const options = { abortSignal: settings.signal };
  const params = { Bucket: bucket, Key: key, ...objectParams(settings) };
  const refused = (error: unknown) => httpStatus(error) === 412 || s3Code(error) === 'PreconditionFailed';
  const unsupported = (error: unknown) => httpStatus(error) === 501 || s3Code(error) === 'NotImplemented';
  const putEmpty = (ifNoneMatch: boolean) => client.send(new s3.PutObjectCommand({ ...params, Body: new Uint8Array(0), ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }), options);
  let wrote = false;
  try {
    try {
      await putEmpty(conditional);
      wrote = true;
    } catch (error) {
      const config = settingsRefused(error, settings);
      if (config) throw config;
      if (!conditional || !unsupported(error)) throw error;
      // No conditional PUT at all (501): then no conditional Complete either.
      await putEmpty(false);
      wrote = true;
      return { put: false, complete: false };
    }
    if (!conditional) return null;
    const put = await putEmpty(true).then(
      () => false,
      (error: unknown) => {
        if (refused(error) || unsupported(error)) return refused(error);
        throw error;
      },
    );
    const complete = await probeComplete(client, params, options);
    return { put, complete };
  } catch (error) {
    if (error instanceof ConfigError || settings.signal?.aborted) throw error;
    log.debug('the conditional-writes probe could not finish; assuming none', { key, error: describeError(error) });
    return null;
  } finally {
    if (wrote) {
      await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: key }), options).catch((error: unknown) => {
        log.debug('cannot delete the conditional-writes probe object', { key, error: describeError(error) });
      });
    }
  }
}

/** A one-part multipart upload completed onto the probe key with If-None-Match: *: true when refused. */
async function probeComplete(client: S3Client, params: { Bucket: string; Key: string }, options: { abortSignal?: AbortSignal | undefined }): Promise<boolean> {
  const { s3 } = sdk();
  const created = await client.send(new s3.CreateMultipartUploadCommand(params), options);
  const target = { Bucket: params.Bucket, Key: params.Key, UploadId: created.UploadId! };
  let completed = false;
  try {
    const part = await client.send(new s3.UploadPartCommand({ ...target, PartNumber: 1, Body: new Uint8Array(1) }), options);
    await client.send(new s3.CompleteMultipartUploadCommand({ ...target, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, IfNoneMatch: '*' }), options);
    completed = true;
    return false;
  } catch (error) {
    if (httpStatus(error) === 412 || s3Code(error) === 'PreconditionFailed') return true;
    if (httpStatus(error) === 501 || s3Code(error) === 'NotImplemented') return false;
    throw error;
  } finally {
    if (!completed) await client.send(new s3.AbortMultipartUploadCommand(target), options).catch(() => {});
  }
}
