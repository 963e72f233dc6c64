// What the store does with If-None-Match: * (a write that must not replace an
// existing object), learned from a probe under a key of logjam's own, or given
// with --conditional-writes. AWS S3 honours it on PutObject and on
// CompleteMultipartUpload; Ceph RGW 16 on PutObject only (a Complete replaces
// whatever holds the key); s3rver and old MinIO on neither. The same probe
// carries the object settings (--storage-class, --sse, --sse-kms-key-id), so
// that a store that refuses them says so before any file is tried. What a
// probe found is remembered between runs (profile.ts), so a probe runs about
// once a week; `yes` and `put-only` on a custom endpoint are verified by one.
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, type Logger } from '@logjam/core';
import { abortOrphans } from './orphans.js';
import { describeError, httpStatus, s3Code } from './s3.js';
import { sdk } from './sdk.js';
import { objectParams, settingsFlags, type ConditionalWrites, type ObjectSettings } from './write-settings.js';

export { objectParams, settingsFlags, type ConditionalWrites, type ObjectSettings } from './write-settings.js';

/** auto: probe; yes: PutObject and Complete; put-only: PutObject alone (Ceph RGW 16); no: neither. */
export type ConditionalWritesMode = 'auto' | 'yes' | 'put-only' | 'no';
export const CONDITIONAL_WRITES_MODES: readonly ConditionalWritesMode[] = ['auto', 'yes', 'put-only', 'no'];
const GIVEN: Record<Exclude<ConditionalWritesMode, 'auto'>, ConditionalWrites> = {
  yes: { put: true, complete: true },
  'put-only': { put: true, complete: false },
  no: { put: false, complete: false },
};

/**
 * A 400 to a write that carried object settings is the settings' fault (a
 * class or an encryption the store does not offer): the configuration error
 * naming them, or null for any other error.
 */
export function settingsRefused(error: unknown, settings: ObjectSettings): ConfigError | null {
  const flags = settingsFlags(settings);
  if (!flags || httpStatus(error) !== 400) return null;
  return new ConfigError(
    `the store refused ${flags} (${s3Code(error) || 'HTTP 400'}); leave the option out, or choose a value the store offers`,
  );
}

export interface LearnSettings extends ObjectSettings {
  client: S3Client;
  bucket: string;
  /** The custom endpoint, or undefined for AWS. */
  endpoint: string | undefined;
  mode: ConditionalWritesMode;
  /** Where the probe writes: a folder of the bucket that logjam writes to (the template's fixed start). */
  probePrefix: string;
  /** Names the probe's one key: this host and archive folder always probe under the same key. */
  prober: { hostname: string; archiveDir: string };
  /** What an earlier probe with these settings found, while still fresh (profile.ts); a probe of the object settings alone finds `{}`. */
  known?: { writes?: ConditionalWrites } | undefined;
  log: Logger;
  signal?: AbortSignal | undefined;
}

/** What learnConditionalWrites found: the writes to use, and what its probe (if one ran) showed. */
export interface Learned {
  writes: ConditionalWrites;
  probe?: ProbeReport;
}

export interface ProbeReport {
  key: string;
  /** What the store honours; undefined for a probe of the object settings alone, null when the probe could not tell. */
  found?: ConditionalWrites | null;
  /** Set when DeleteObject was refused: the probe object stays at `key`. */
  deleteRefused?: string;
}

export const PROBE_FOLDER = '.logjam-probe/';

/** The probe's key: one per host and archive folder, so that each probe replaces (and removes) what an earlier one left. */
export function probeKey(prefix: string, prober: { hostname: string; archiveDir: string }): string {
  const host = prober.hostname.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  const folder = createHash('sha256').update(prober.archiveDir).digest('hex').slice(0, 8);
  return `${prefix}${PROBE_FOLDER}${host}-${folder}`;
}

function covers(found: ConditionalWrites, given: ConditionalWrites): boolean {
  return (found.put || !given.put) && (found.complete || !given.complete);
}

/**
 * What to do before uploading (pure): use `writes`, or probe: the conditional
 * writes ('conditional'), or only the object settings ('settings', with the
 * writes to use after). AWS and --conditional-writes no need no proof; auto and
 * a promise on a custom endpoint need a probe unless an earlier one answers.
 */
export function choose(
  mode: ConditionalWritesMode,
  endpoint: string | undefined,
  hasSettings: boolean,
  known: LearnSettings['known'],
): { writes: ConditionalWrites } | { probe: 'conditional' } | { probe: 'settings'; writes: ConditionalWrites } {
  const given = mode !== 'auto' ? GIVEN[mode] : endpoint === undefined ? GIVEN.yes : null;
  const proven = given !== null && (endpoint === undefined || mode === 'no');
  if (given && proven)
    return hasSettings && !known ? { probe: 'settings', writes: { ...given } } : { writes: { ...given } };
  if (known?.writes && (!given || covers(known.writes, given))) return { writes: { ...(given ?? known.writes) } };
  // Never probed, or the operator promises more than an earlier probe found: the store may have changed; ask it again.
  return { probe: 'conditional' };
}

/** One write of the probe: it landed, the store refused it (412: the key is taken), or the store does not do conditional writes (501). */
export type ProbeAnswer = 'written' | 'refused' | 'unsupported';

/**
 * What the store honours, from the probe's answers (pure): the first
 * If-None-Match PUT onto the probe key, the second (skipped when the first was
 * refused: an earlier probe's object held the key), and the Complete.
 * A write that lands onto a taken key is one that ignored If-None-Match.
 */
export function judgeProbe(answers: {
  first: ProbeAnswer;
  second?: ProbeAnswer;
  complete?: ProbeAnswer;
}): ConditionalWrites {
  if (answers.first === 'unsupported') return { put: false, complete: false };
  return { put: answers.first === 'refused' || answers.second === 'refused', complete: answers.complete === 'refused' };
}

/** The configuration error of a store that does less than --conditional-writes said, or null (pure). */
export function contradiction(
  mode: ConditionalWritesMode,
  found: ConditionalWrites,
  endpoint: string | undefined,
  key: string,
): ConfigError | null {
  if (mode === 'auto' || mode === 'no' || covers(found, GIVEN[mode])) return null;
  const missing = found.put ? 'on CompleteMultipartUpload' : 'on PutObject';
  const instead = found.put ? 'put-only' : 'no';
  return new ConfigError(
    `--conditional-writes ${mode}: the store at ${endpoint ?? 'AWS'} ignores If-None-Match ${missing} (a probe onto ${key} showed it); use --conditional-writes ${instead} or auto, or fix the store`,
  );
}

/**
 * The store's conditional writes: given, known from an earlier probe, or
 * probed now. Throws ConfigError when the store refuses the object settings,
 * or does less than --conditional-writes promised.
 */
export async function learnConditionalWrites(settings: LearnSettings): Promise<Learned> {
  const plan = choose(settings.mode, settings.endpoint, settingsFlags(settings) !== '', settings.known);
  if (!('probe' in plan)) return { writes: plan.writes };
  const probe = await probeStore(settings, plan.probe === 'conditional');
  if (plan.probe === 'settings') return { writes: plan.writes, probe };
  const fields = { bucket: settings.bucket };
  // A probe that could not finish (refused by a policy, say) proves nothing: the safe side (HEAD before each write),
  // the telling left to the uploads (a bucket refused altogether is their one-line error), and the next run asks again.
  if (!probe.found) {
    if (settings.mode !== 'auto')
      settings.log.debug(
        `could not verify --conditional-writes ${settings.mode}; relying on HEAD until a probe succeeds`,
        fields,
      );
    return { writes: { put: false, complete: false }, probe };
  }
  const found = probe.found;
  const contradicted = contradiction(settings.mode, found, settings.endpoint, probe.key);
  if (contradicted) throw contradicted;
  if (!found.put)
    settings.log.info(
      'the store does not support conditional writes (If-None-Match); relying on HEAD alone, which a racing writer can beat',
      fields,
    );
  else if (!found.complete)
    settings.log.info(
      'the store honours If-None-Match on PutObject but not on CompleteMultipartUpload; multipart uploads claim their key first',
      fields,
    );
  else settings.log.debug('the store honours If-None-Match on PutObject and CompleteMultipartUpload', fields);
  return { writes: settings.mode === 'auto' ? { ...found } : { ...GIVEN[settings.mode] }, probe };
}

const isRefused = (error: unknown) => httpStatus(error) === 412 || s3Code(error) === 'PreconditionFailed';
const isUnsupported = (error: unknown) => httpStatus(error) === 501 || s3Code(error) === 'NotImplemented';

/** A probe write's answer; any other error is thrown. */
async function answerOf(write: Promise<unknown>): Promise<ProbeAnswer> {
  try {
    await write;
    return 'written';
  } catch (error) {
    if (isRefused(error)) return 'refused';
    if (isUnsupported(error)) return 'unsupported';
    throw error;
  }
}

/**
 * Empty PUTs with If-None-Match: * onto this host's probe key (the second
 * must be refused), and a one-part multipart upload completed onto it with
 * If-None-Match: * (refused too); then the key is deleted. A probe killed
 * earlier left its object (and maybe an unfinished upload) at this same key:
 * this one replaces and deletes them. With `conditional` false, one plain PUT
 * (the object settings' check) and the delete.
 */
async function probeStore(settings: LearnSettings, conditional: boolean): Promise<ProbeReport> {
  const { s3 } = sdk();
  const { client, bucket, log } = settings;
  const key = probeKey(settings.probePrefix, settings.prober);
  const options = { abortSignal: settings.signal };
  const params = { Bucket: bucket, Key: key, ...objectParams(settings) };
  const putEmpty = (ifNoneMatch: boolean) =>
    client.send(
      new s3.PutObjectCommand({ ...params, Body: new Uint8Array(0), ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
      options,
    );
  const report: ProbeReport = { key };
  // Whether the probe's object may exist now; not when its first PUT was refused (a 4xx: nothing written).
  let written = false;
  try {
    const first = await answerOf(putEmpty(conditional)).catch((error: unknown) => {
      written = !((httpStatus(error) ?? 0) >= 400 && (httpStatus(error) ?? 0) < 500);
      throw settingsRefused(error, settings) ?? error;
    });
    written = true;
    if (first === 'unsupported') {
      // The object settings still need their check.
      await putEmpty(false);
      report.found = judgeProbe({ first });
    } else if (conditional) {
      // A probe killed after its CreateMultipartUpload left that upload's part behind.
      await abortOrphans(
        { client, log, signal: settings.signal ?? new AbortController().signal },
        { bucket, key },
        key,
      );
      // The second PUT and the multipart upload each need only the key taken: sent together, the
      // probe waits for the longer of the two (Ceph RGW answers a 412 in about 45 ms), not their sum.
      // Both settle before either's error is thrown: nothing of the probe is still in flight after it.
      const [second, complete] = await bothSettled(
        first === 'refused' ? Promise.resolve(undefined) : answerOf(putEmpty(true)),
        probeComplete(client, params, options),
      );
      report.found = judgeProbe({ first, second, complete });
    }
  } catch (error) {
    if (error instanceof ConfigError || settings.signal?.aborted) throw error;
    log.debug('the conditional-writes probe could not finish; assuming none', { key, error: describeError(error) });
    report.found = null;
  } finally {
    if (written) {
      await client.send(new s3.DeleteObjectCommand({ Bucket: bucket, Key: key }), options).catch((error: unknown) => {
        if (httpStatus(error) === 403) report.deleteRefused = s3Code(error) || 'HTTP 403';
        else log.debug('cannot delete the conditional-writes probe object', { key, error: describeError(error) });
      });
    }
  }
  return report;
}

/** Both values once both promises settled; the first one's error, if any failed. */
async function bothSettled<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
  return [x.value, y.value];
}

/** A one-part multipart upload completed onto the probe key with If-None-Match: *. */
async function probeComplete(
  client: S3Client,
  params: { Bucket: string; Key: string },
  options: { abortSignal?: AbortSignal | undefined },
): Promise<ProbeAnswer> {
  const { s3 } = sdk();
  const created = await client.send(new s3.CreateMultipartUploadCommand(params), options);
  const target = { Bucket: params.Bucket, Key: params.Key, UploadId: created.UploadId! };
  let answer: ProbeAnswer | undefined;
  try {
    const part = await client.send(
      new s3.UploadPartCommand({ ...target, PartNumber: 1, Body: new Uint8Array(1) }),
      options,
    );
    answer = await answerOf(
      client.send(
        new s3.CompleteMultipartUploadCommand({
          ...target,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          IfNoneMatch: '*',
        }),
        options,
      ),
    );
    return answer;
  } finally {
    if (answer !== 'written') await client.send(new s3.AbortMultipartUploadCommand(target), options).catch(() => {});
  }
}
