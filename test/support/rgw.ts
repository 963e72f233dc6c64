// Ceph's RADOS Gateway as a test server: a real S3 implementation that checks
// SigV4 secrets, Content-MD5 and part sizes, and answers If-None-Match: * on
// PutObject (not on CompleteMultipartUpload: Ceph 16). scripts/rgw.sh runs a
// throwaway single-node cluster and prints LOGJAM_TEST_RGW=http://127.0.0.1:PORT;
// the tests reach it through a recording pass-through on 127.0.0.1, so that
// they can tell which requests logjam made, as with s3rver.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { storeView, testClient, type Credentials, type RecordedRequest, type TestS3 } from './s3.ts';

/** The users scripts/rgw.sh creates (fixed keys, the same there). */
export const RGW_USER: Credentials = {
  accessKeyId: 'LOGJAMRGWTESTKEY0001',
  secretAccessKey: 'logjam-rgw-test-secret-0001',
};
export const RGW_OTHER: Credentials = {
  accessKeyId: 'LOGJAMRGWTESTKEY0002',
  secretAccessKey: 'logjam-rgw-test-secret-0002',
};

/** The one line a suite shows when it skips its RGW run. */
export const RGW_HOW_TO_ENABLE =
  'Ceph RGW runs skipped: `eval "$(scripts/rgw.sh start)"` starts one and sets LOGJAM_TEST_RGW (needs apt-get install ceph-mon ceph-osd radosgw ceph-common)';

/** The RGW endpoint from LOGJAM_TEST_RGW, or undefined when none runs. */
export function rgwEndpoint(): string | undefined {
  return process.env.LOGJAM_TEST_RGW || undefined;
}

/** Empties `bucket`: every object and every unfinished multipart upload, and its policy. */
export async function emptyBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new DeleteBucketPolicyCommand({ Bucket: bucket })).catch(() => undefined);
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    await Promise.all(
      (out.Contents ?? []).map((o) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key! }))),
    );
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  await Promise.all(
    (uploads.Uploads ?? []).map((u) =>
      client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! })),
    ),
  );
}

/** The RGW at LOGJAM_TEST_RGW behind a recording pass-through, with `buckets` made (or emptied) for the uploader's user. */
export async function startRgw(options: { buckets?: string[] } = {}): Promise<TestS3> {
  const target = rgwEndpoint();
  if (!target) throw new Error(RGW_HOW_TO_ENABLE);
  const admin = testClient(target, RGW_USER);
  const buckets = options.buckets ?? ['logs'];
  for (const bucket of buckets) {
    await admin.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
    await emptyBucket(admin, bucket);
  }

  const requests: RecordedRequest[] = [];
  const { hostname, port: targetPort } = new URL(target);
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const recorded: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } };
    requests.push(recorded);
    // Forwarded verbatim, Host included: the SigV4 signature covers it.
    const upstream = http.request(
      { host: hostname, port: targetPort, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        recorded.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = testClient(endpoint, RGW_USER);
  return {
    kind: 'rgw',
    endpoint,
    credentials: RGW_USER,
    playConditionalWrites: false,
    ...storeView(client, requests),
    async close() {
      for (const bucket of buckets) await emptyBucket(admin, bucket);
      client.destroy();
      admin.destroy();
      agent.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
