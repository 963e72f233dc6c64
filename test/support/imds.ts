// A small fake EC2 instance-metadata service (IMDS) on 127.0.0.1, for proving
// the instance-role credential path end to end: point a child process at it
// with AWS_EC2_METADATA_SERVICE_ENDPOINT=<endpoint> (see `imdsEnv`).
//
// It serves what the AWS SDK asks for:
//   PUT /latest/api/token                                  IMDSv2 session token
//   GET /latest/meta-data/iam/security-credentials/        the role name
//   GET /latest/meta-data/iam/security-credentials/ROLE    the role's credentials (JSON)
//   GET /latest/meta-data/placement/region                 the instance's region
// and counts every request, so that tests can tell what was asked.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeImdsOptions {
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  roleName?: string;
  region?: string;
  /** Refuse IMDSv1 (requests without a token get 401), as an instance with HttpTokens=required. */
  requireToken?: boolean;
  /**
   * Called for every credentials request, instead of the fixed keys above:
   * for rotating credentials with a short Expiration (the SDK refreshes
   * them once fewer than 5 minutes are left).
   */
  credentials?: () => { accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration: Date };
}

export interface FakeImds {
  /** http://127.0.0.1:PORT — the value for AWS_EC2_METADATA_SERVICE_ENDPOINT. */
  endpoint: string;
  /** Every request, in order. */
  requests: Array<{ method: string; path: string; token: boolean }>;
  /** Requests whose path starts with `prefix` (all when omitted). */
  count(prefix?: string): number;
  close(): Promise<void>;
}

const TOKEN = 'fake-imds-token';

export async function startFakeImds(options: FakeImdsOptions = {}): Promise<FakeImds> {
  // s3rver's built-in account: access key S3RVER, secret S3RVER.
  const accessKeyId = options.accessKeyId ?? 'S3RVER';
  const secretAccessKey = options.secretAccessKey ?? 'S3RVER';
  const roleName = options.roleName ?? 'logjam-test-role';
  const region = options.region ?? 'us-east-1';
  const requests: FakeImds['requests'] = [];

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const token = req.headers['x-aws-ec2-metadata-token'] === TOKEN;
    requests.push({ method: req.method ?? 'GET', path: url, token });
    const send = (status: number, body: string, type = 'text/plain') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    req.resume();
    if (req.method === 'PUT' && url === '/latest/api/token') {
      if (!req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return send(400, 'missing TTL');
      return send(200, TOKEN);
    }
    if (req.method !== 'GET') return send(405, 'method not allowed');
    if (options.requireToken && !token) return send(401, 'unauthorized');
    if (url === '/latest/meta-data/iam/security-credentials/' || url === '/latest/meta-data/iam/security-credentials')
      return send(200, roleName);
    if (url === `/latest/meta-data/iam/security-credentials/${roleName}`) {
      const now = Date.now();
      const issued = options.credentials?.() ?? {
        accessKeyId,
        secretAccessKey,
        sessionToken: options.sessionToken,
        expiration: new Date(now + 6 * 3600_000),
      };
      return send(
        200,
        JSON.stringify({
          Code: 'Success',
          LastUpdated: new Date(now).toISOString(),
          Type: 'AWS-HMAC',
          AccessKeyId: issued.accessKeyId,
          SecretAccessKey: issued.secretAccessKey,
          Token: issued.sessionToken ?? 'fake-session-token',
          Expiration: issued.expiration.toISOString(),
        }),
        'application/json',
      );
    }
    if (url === '/latest/meta-data/placement/region') return send(200, region);
    return send(404, 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    count: (prefix = '') => requests.filter((r) => r.path.startsWith(prefix)).length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * An environment in which the only credentials are the instance role's from
 * `imdsEndpoint`: every AWS_* variable removed, the shared files pointing at
 * nothing, HOME at `home` (an empty temp dir). Use with runBin's cleanEnv.
 */
export function imdsEnv(imdsEndpoint: string, home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('AWS_')) env[key] = value;
  return {
    ...env,
    HOME: home,
    AWS_CONFIG_FILE: `${home}/no-such-aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${home}/no-such-aws-credentials`,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imdsEndpoint,
    ...extra,
  };
}

/** An endpoint on which nothing listens (a port just closed): for "no credentials anywhere". */
export async function closedEndpoint(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
