// Talking to S3: the client (region from region.ts, endpoint, credentials, checksums,
// keep-alive, retries — all the SDK's own machinery), and the start-up check
// that turns a missing bucket or a bad key into one clear line.
import os from 'node:os';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { ConfigError, type Logger } from '@logjam/core';
import { sdk, type CredentialProvider } from './sdk.js';
import type { ProxySettings } from './proxy.js';
import { countRequests, MAX_ATTEMPTS, reopenFileBodies, type RequestCounts } from './client-steps.js';
import { enableDirectPuts } from './direct-put.js';
import { createRequestHandler, type HandlerSettings } from './request-handler.js';
import { METADATA_TIMEOUT_MS } from './region.js';

export { instanceRegion, METADATA_TIMEOUT_MS, resolveRegion, type RegionChoice } from './region.js';

type Env = NodeJS.ProcessEnv;

export interface ClientSettings {
  region: string;
  /** A custom endpoint (MinIO, Ceph, R2, a test server); none for AWS. */
  endpoint?: string | undefined;
  forcePathStyle: boolean;
  /** Sockets to keep open: enough for every upload and part in flight. */
  maxSockets: number;
  env: Env;
  /** The run's stop signal: aborts every request in flight (SIGTERM). */
  signal?: AbortSignal | undefined;
  /** The SDK's retry mode: standard (backoff with jitter), or adaptive (that, plus a client-side rate limit that slows down when throttled). */
  retryMode?: RetryMode;
  /** Counts every request sent (each attempt), by method. */
  counts?: RequestCounts | undefined;
  /** HTTPS_PROXY, HTTP_PROXY, NO_PROXY (proxy.ts); none: every request goes direct. */
  proxies?: ProxySettings | undefined;
  /** The CA bundle's PEM (AWS_CA_BUNDLE, ca_bundle): the only roots trusted for S3. */
  ca?: string | undefined;
}

export const RETRY_MODES = ['standard', 'adaptive'] as const;
export type RetryMode = (typeof RETRY_MODES)[number];

// Where the counts live now; importers of s3.ts keep finding them here.
export { formatRequests, MAX_ATTEMPTS, RequestCounts, type RequestTally } from './client-steps.js';

/** --endpoint-url, else the standard AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL. */
export function chooseEndpoint(flag: string | undefined, env: Env): string | undefined {
  if ((env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true') return flag;
  return flag || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
}

/** The standard credential chain; instance metadata with a short timeout. */
export function credentialChain(network: Pick<HandlerSettings, 'proxies' | 'ca'> = {}): CredentialProvider {
  // STS (web identity, assumed roles) and SSO go through the proxy too, trusting the CA bundle; the metadata services never do (their own requests).
  const clientConfig =
    network.proxies || network.ca
      ? { clientConfig: { requestHandler: createRequestHandler({ maxSockets: 2, ...network }) } }
      : {};
  return sdk().credentials.fromNodeProviderChain({ timeout: METADATA_TIMEOUT_MS, maxRetries: 0, ...clientConfig });
}

/** Where the chain looks, for the message when it finds nothing. */
export function credentialSources(env: Env): string {
  const home = env.HOME ?? os.homedir();
  const credentialsFile = env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, '.aws', 'credentials');
  const configFile = env.AWS_CONFIG_FILE ?? path.join(home, '.aws', 'config');
  const profile = env.AWS_PROFILE ?? 'default';
  const imds = env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? 'http://169.254.169.254';
  return [
    'environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
    `profile '${profile}' in ${credentialsFile} and ${configFile} (incl. SSO, credential_process)`,
    'web identity (AWS_WEB_IDENTITY_TOKEN_FILE)',
    'ECS container credentials (AWS_CONTAINER_CREDENTIALS_*_URI)',
    `EC2 instance metadata (${imds})`,
  ].join(', ');
}

/** Resolves credentials once at start, so that having none is one clear line (exit 2). */
export async function checkCredentials(provider: CredentialProvider, env: Env, log: Logger): Promise<void> {
  try {
    const credentials = await provider();
    log.debug('credentials found', {
      accessKeyId: `${credentials.accessKeyId.slice(0, 4)}…`,
      expires: credentials.expiration?.toISOString(),
    });
  } catch (error) {
    log.debug('credential chain failed', { error: String(error) });
    throw new ConfigError(`no AWS credentials found; looked in: ${credentialSources(env)}`);
  }
}

export function createClient(settings: ClientSettings, credentials: CredentialProvider): S3Client {
  const requestHandler = createRequestHandler(settings);
  const client = newClient(settings, credentials, requestHandler, MAX_ATTEMPTS);
  // The rest of a direct PUT's attempts, when its first failed (direct-put.ts), over the same sockets.
  const retries = newClient(settings, credentials, requestHandler, MAX_ATTEMPTS - 1);
  enableDirectPuts(client, retries, settings.counts, settings.signal);
  return client;
}

function newClient(
  settings: ClientSettings,
  credentials: CredentialProvider,
  requestHandler: ReturnType<typeof createRequestHandler>,
  maxAttempts: number,
): S3Client {
  const client = new (sdk().s3.S3Client)({
    region: settings.region,
    credentials,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    followRegionRedirects: true,
    // Streaming uploads would otherwise go out as aws-chunked bodies with
    // trailing checksums, which some S3-compatible stores (s3rver among them)
    // store verbatim, framing and all. Integrity comes from Content-MD5 on
    // every PUT and every part instead (set by upload.ts and multipart.ts), which every store checks.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The SDK's retry strategies: exponential backoff with full jitter on 5xx, timeouts and
    // resets, from a longer base (1 s) for throttling (503 SlowDown, 429); adaptive adds a
    // client-side rate limit that slows down when throttled.
    retryMode: settings.retryMode ?? 'standard',
    maxAttempts,
    cacheMiddleware: true,
    requestHandler,
  });
  // The SDK's logger step filters every request's input and output for sensitive
  // fields to log them, even to its no-op logger: its schemaLogFilter alone was
  // 1.6-1.9% of the main thread on small files (profiled). logjam logs for itself.
  client.middlewareStack.remove('loggerMiddleware');
  reopenFileBodies(client);
  if (settings.counts) countRequests(client, settings.counts);
  return client;
}

/** The object metadata (x-amz-meta-logjam-md5) holding the file's MD5 in hex. */
export const MD5_METADATA = 'logjam-md5';

/** An ETag without its quotes, in lower case (for an MD5, its hex). */
export function plainEtag(etag: string | undefined): string | undefined {
  return etag?.replace(/"/g, '').toLowerCase();
}

/** The Content-MD5 header's value (base64) for an MD5 in hex: the store refuses a body that does not match it. */
export function contentMd5(md5: string): string {
  return Buffer.from(md5, 'hex').toString('base64');
}

/**
 * Throws when the answer to a write shows that the store kept other bytes than
 * were sent: its ETag is an MD5 that differs from ours. (With SSE-KMS an ETag
 * is no MD5; the store checked Content-MD5 anyway.)
 */
export function checkStoredMd5(etag: string | undefined, md5: string, sse: string | undefined, what = ''): void {
  const stored = plainEtag(etag);
  if (sse !== 'aws:kms' && stored && /^[0-9a-f]{32}$/.test(stored) && stored !== md5) {
    throw new Error(`S3 stored different bytes${what} (ETag ${stored}, local MD5 ${md5})`);
  }
}

/** The error's S3 code (NoSuchBucket, AccessDenied, …) or its name. */
export function s3Code(error: unknown): string {
  const e = error as { Code?: unknown; name?: unknown; code?: unknown } | null;
  if (typeof e?.Code === 'string') return e.Code;
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e?.code === 'string') return e.code;
  return 'Error';
}

export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

/** One line describing an SDK error: code, status, message. */
export function describeError(error: unknown): string {
  const code = s3Code(error);
  const status = httpStatus(error);
  const message = error instanceof Error ? error.message : String(error);
  const parts = [bare503(code, status) ? 'SlowDown?' : code];
  if (status)
    parts.push(
      bare503(code, status) ? '(HTTP 503 without a body, as S3 answers a HEAD it throttles)' : `(HTTP ${status})`,
    );
  if (message && message !== code && message !== 'UnknownError') parts.push(message);
  if (UNTRUSTED_CERTIFICATE.has(code))
    parts.push("(a private CA, such as a TLS-inspecting proxy's? name its PEM bundle in AWS_CA_BUNDLE)");
  return parts.join(' ').replace(/\s*\n\s*/g, ' ');
}

/** OpenSSL's codes for a certificate chain that ends at no trusted CA. */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
]);

export function isCredentialError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'CredentialsProviderError' || name === 'ProviderError';
}

/** S3 asking the client to slow down (503 SlowDown, 429 Too Many Requests): the request was not acted on. */
export function isThrottling(error: unknown): boolean {
  const code = s3Code(error);
  return (
    code === 'SlowDown' ||
    code === 'TooManyRequests' ||
    code === 'Throttling' ||
    httpStatus(error) === 429 ||
    bare503(code, httpStatus(error))
  );
}

/** A 503 whose answer names no error (a HEAD's has no body to): S3's SlowDown, as far as the client can tell. */
function bare503(code: string, status: number | undefined): boolean {
  return (
    status === 503 && (code === '' || code === 'Unknown' || code === 'UnknownError' || code === 'ServiceUnavailable')
  );
}

const KEY_REJECTED = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
]);

/** Errors that no retry or other file will cure: the whole run's configuration is wrong. */
export function isBucketError(error: unknown): boolean {
  const code = s3Code(error);
  return code === 'NoSuchBucket' || code === 'AccessDenied' || KEY_REJECTED.has(code) || isCredentialError(error);
}

export type BucketAccess = 'ok' | 'limited';

/** The bucket does not exist: a configuration error, which fails only that bucket's files when the template names several. */
export class MissingBucketError extends ConfigError {}

/**
 * Checks that the bucket is there and the credentials work: HeadBucket, and
 * when that is refused (403 carries no reason), a GET of a key that does not
 * exist, whose error says why. A role without s3:ListBucket gets AccessDenied
 * on both; that is allowed ('limited'), and uploads will tell the rest.
 * `refusedBefore`: an earlier run found HeadBucket refused and the uploads
 * went on (the store profile), so a 403 is 'limited' without the GET.
 */
export async function checkBucket(
  client: S3Client,
  bucket: string,
  env: Env,
  signal?: AbortSignal,
  refusedBefore = false,
): Promise<BucketAccess> {
  const where = client.config.endpoint ? ' at the configured endpoint' : '';
  try {
    await client.send(new (sdk().s3.HeadBucketCommand)({ Bucket: bucket }), { abortSignal: signal });
    return 'ok';
  } catch (error) {
    if (isCredentialError(error))
      throw new ConfigError(`no AWS credentials found; looked in: ${credentialSources(env)}`);
    const status = httpStatus(error);
    if (status === 404 || s3Code(error) === 'NoSuchBucket')
      throw new MissingBucketError(`bucket '${bucket}' does not exist${where}`);
    if (status !== 403) throw error;
    if (refusedBefore) return 'limited';
  }
  try {
    await client
      .send(new (sdk().s3.GetObjectCommand)({ Bucket: bucket, Key: '.logjam-upload-access-check' }), {
        abortSignal: signal,
      })
      .then((r) => r.Body?.transformToByteArray());
    return 'ok';
  } catch (error) {
    const code = s3Code(error);
    // The bucket is there and the credentials work, but HeadBucket was refused all the same (Ceph RGW without s3:ListBucket).
    if (code === 'NoSuchKey') return 'limited';
    if (code === 'NoSuchBucket') throw new MissingBucketError(`bucket '${bucket}' does not exist${where}`);
    if (KEY_REJECTED.has(code))
      throw new ConfigError(`access to bucket '${bucket}' refused: the credentials are not valid (${code})`);
    if (code === 'AccessDenied') return 'limited';
    throw error;
  }
}
