// A real S3 protocol server for tests: s3rver on 127.0.0.1 at a free port,
// storing in its own temp dir, with buckets made up front. Every HTTP request
// it receives is recorded (method, path), so that a test can prove that no PUT
// happened. Plus an SDK client with s3rver's credentials (S3RVER / S3RVER) to
// look at what landed: download bytes, HEAD, list, put a conflicting object.
import { promises as fs } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type HeadObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import S3rver from 's3rver';

export const S3RVER_KEY = 'S3RVER';
export const S3RVER_SECRET = 'S3RVER';

export interface RecordedRequest {
  method: string;
  /** The URL path and query, e.g. /bucket/key?uploadId=... */
  url: string;
  /** The request headers, names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  /** The status answered, once answered. */
  status?: number;
}

/** The S3 servers the upload suites run against: s3rver (always) and Ceph RGW (when scripts/rgw.sh runs one). */
export type ServerKind = 's3rver' | 'rgw';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface TestS3 {
  kind: ServerKind;
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** The keys of the server's user that the uploader runs as. */
  credentials: Credentials;
  /**
   * Whether a proxy in front must play S3's If-None-Match: * (s3rver ignores
   * it); RGW answers it on PutObject itself, and ignores it on Complete as
   * RGW does, which is what logjam has to cope with there.
   */
  playConditionalWrites: boolean;
  /** Every request received, in order; clear it with `requests.length = 0`. */
  requests: RecordedRequest[];
  /** Requests that wrote an object or a part (PUT or POST to a key, not refused), but for logjam-upload's probe of the store (isProbeKey). */
  writes(): RecordedRequest[];
  /** A client for looking at (or tampering with) the store, path style, with s3rver's credentials. */
  client: S3Client;
  /** The object's bytes, downloaded through the SDK. */
  download(bucket: string, key: string): Promise<Buffer>;
  /** HEAD, or null when there is no such key. */
  head(bucket: string, key: string): Promise<HeadObjectCommandOutput | null>;
  /** Every key in the bucket (under `prefix`), sorted: all pages of the listing, not only the first 1,000. */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/** With `tls`, s3rver speaks HTTPS only, with that key and certificate; the test's client trusts `ca`. */
export async function startS3(
  options: { buckets?: string[]; tls?: { key: string; cert: string; ca: string } } = {},
): Promise<TestS3> {
  const directory = await fs.mkdtemp(path.join(os.tmpdir(), 'logjam-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: (options.buckets ?? ['logs']).map((name) => ({ name })),
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
  });
  keepFolders(server);
  await server.run();
  const requests: RecordedRequest[] = [];
  server.httpServer.on('request', (req, res) => {
    const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } };
    requests.push(recorded);
    res.on('finish', () => (recorded.status = res.statusCode));
  });
  const { port } = server.httpServer.address() as AddressInfo;
  const endpoint = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const client = testClient(endpoint, undefined, options.tls?.ca);
  return {
    kind: 's3rver',
    endpoint,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
    playConditionalWrites: true,
    ...storeView(client, requests),
    async close() {
      client.destroy();
      server.httpServer.closeAllConnections();
      await server.close();
      await fs.rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver's DELETE removes the folders a key leaves empty, racing any PUT in the
 * same folder: between that PUT's mkdir and its open, the folder goes, the open
 * fails ENOENT on a write stream s3rver gave no error handler, and s3rver's
 * process dies (it did, in this one, under load: two hosts' probes under one
 * `.logjam-probe/`). Folders are not objects: S3 has none, and s3rver lists
 * files only, so leaving them changes nothing a client sees.
 */
function keepFolders(server: S3rver): void {
  const store = (
    server as unknown as {
      store: {
        getResourcePath(bucket: string, key: string, resource: string): string;
        deleteObject(bucket: string, key: string): Promise<void>;
      };
    }
  ).store;
  store.deleteObject = async (bucket, key) => {
    const files = ['object', 'object.md5', 'metadata.json'].map((resource) =>
      store.getResourcePath(bucket, key, resource),
    );
    await Promise.all(
      files.map((file) =>
        fs
          .unlink(file)
          .catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error))),
      ),
    );
  };
}

/** What a test looks at in any store: the recorded requests, and the objects through `client`. */
export function storeView(
  client: S3Client,
  requests: RecordedRequest[],
): Pick<TestS3, 'requests' | 'writes' | 'client' | 'download' | 'head' | 'keys' | 'put'> {
  return {
    requests,
    writes: () =>
      requests.filter(
        (r) =>
          (r.method === 'PUT' || r.method === 'POST') &&
          (r.status ?? 200) < 300 &&
          r.url.split('?')[0]!.split('/').filter(Boolean).length > 1 &&
          !isProbeKey(r.url.split('?')[0]!),
      ),
    client,
    async download(bucket, key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    async head(bucket, key) {
      try {
        return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      } catch (error) {
        if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return null;
        throw error;
      }
    },
    async keys(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const out = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of out.Contents ?? []) keys.push(o.Key!);
        token = out.IsTruncated ? out.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async put(bucket, key, body) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? Buffer.from(body) : body }),
      );
    },
  };
}

/** Whether a key (or a request path) is under the folder of logjam-upload's probe of the store's conditional writes: no upload. */
export function isProbeKey(key: string): boolean {
  return key.includes('.logjam-probe/');
}

/** An SDK client for the store at `endpoint` (s3rver's keys unless told): static credentials, path style, no aws-chunked bodies. */
export function testClient(
  endpoint: string,
  credentials: Credentials = { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
  ca?: string,
): S3Client {
  return new S3Client({
    ...(ca ? { requestHandler: new NodeHttpHandler({ httpsAgent: new https.Agent({ ca }) }) } : {}),
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The environment in which a binary reaches s3rver with its static keys, and looks nowhere else (no config files, no instance metadata). */
export function s3rverEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    AWS_ACCESS_KEY_ID: S3RVER_KEY,
    AWS_SECRET_ACCESS_KEY: S3RVER_SECRET,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-aws-credentials'),
  };
}

/**
 * s3rver's access keys, for tests of rotating credentials: s3rver checks that
 * a request's access key id is known (InvalidAccessKeyId otherwise), not its
 * SigV4 signature. Keys added here belong to its one account, beside S3RVER.
 */
export const s3rverKeys = {
  add(accessKeyId: string, secretAccessKey: string): void {
    account().DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
  },
  revoke(accessKeyId: string): void {
    account().DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
  },
};

interface S3rverAccounts {
  DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void; revokeAccessKey(id: string): void };
}
function account(): S3rverAccounts {
  return createRequire(import.meta.url)('s3rver/lib/models/account.js') as S3rverAccounts;
}
