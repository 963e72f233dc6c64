// logjam-upload on a host that reaches S3 only through an egress proxy: the
// built binary, s3rver at an endpoint named `localhost` (plain HTTP, and
// HTTPS with a certificate from a CA made here), a forward proxy on
// 127.0.0.1 that counts what goes through it, and credentials from the fake
// instance-metadata service, which must never be asked through the proxy.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { cleanupTmpDirs, exists, ls, patternedBytes, runBin, tmpDir } from './support/index.ts';
import { closedEndpoint, imdsEnv, startFakeImds, type FakeImds } from './support/imds.ts';
import { startForwardProxy, type ForwardProxy } from './support/forward-proxy.ts';
import { startS3, type TestS3 } from './support/s3.ts';
import { makeTestCa, type TestCa } from './support/tls.ts';

const BUCKET = 'logs';
const FILES = ['app-20240105T1300Z-web1.log.gz', 'app-20240105T1400Z-web1.log.gz', 'db-20240105T1300Z.log.gz'];
const SECRET = 'pr0xy-s3cret';

describe('logjam-upload behind an egress proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, AWS_CA_BUNDLE)', () => {
  let home: string;
  let ca: TestCa;
  let plain: TestS3;
  let secure: TestS3;
  let imds: FakeImds;
  let proxy: ForwardProxy | undefined;
  let n = 0;

  before(async () => {
    home = await tmpDir('logjam-home-');
    ca = await makeTestCa(await tmpDir('logjam-ca-'));
    plain = await startS3({ buckets: [BUCKET] });
    secure = await startS3({ buckets: [BUCKET], tls: ca });
    imds = await startFakeImds({ ...plain.credentials });
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  after(async () => {
    await plain?.close();
    await secure?.close();
    await imds?.close();
    await cleanupTmpDirs();
  });

  /** A fresh ARCHIVE_DIR with FILES (distinct bytes each), and a template whose keys no other test uses. */
  async function archive(): Promise<{
    dir: string;
    template: string;
    key: (name: string) => string;
    bytes: Map<string, Buffer>;
  }> {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    const bytes = new Map(FILES.map((name, i) => [name, patternedBytes(3000 + i * 517, 2654435761 + i)]));
    for (const [name, content] of bytes) await fs.writeFile(path.join(dir, name), content);
    const tag = `p${++n}`;
    const key = (name: string) => `${tag}/${name.split('-')[0]}/2024/01/05/${name}`;
    return { dir, template: `s3://${BUCKET}/${tag}/{prefix}/{year}/{month}/{day}/{filename}`, key, bytes };
  }

  /** The store's endpoint with the host name `localhost` instead of 127.0.0.1. */
  const named = (store: TestS3) => store.endpoint.replace('127.0.0.1', 'localhost');

  function upload(store: TestS3, dir: string, template: string, env: NodeJS.ProcessEnv, extra: string[] = []) {
    const args = [
      '--once',
      '--jobs',
      '1',
      '--conditional-writes',
      'no',
      '--endpoint-url',
      named(store),
      '--force-path-style',
      ...extra,
      dir,
      template,
    ];
    return runBin('logjam-upload', args, { cleanEnv: true, env: imdsEnv(imds.endpoint, home, env) });
  }

  async function expectUploaded(store: TestS3, a: Awaited<ReturnType<typeof archive>>) {
    for (const [name, content] of a.bytes)
      expect((await store.download(BUCKET, a.key(name))).equals(content), name).to.equal(true);
    expect((await ls(path.join(a.dir, '.uploaded'))).sort()).to.deep.equal([...FILES].sort());
  }

  it('HTTP_PROXY: every request to the endpoint goes through the proxy as an absolute URI, with the credentials from the URL; instance metadata never does', async () => {
    proxy = await startForwardProxy({ credentials: `logjam:${SECRET}` });
    const a = await archive();
    plain.requests.length = 0;
    imds.requests.length = 0;
    // NODE_USE_ENV_PROXY: on Node 24 it would send the SDK's metadata requests through the proxy too (no-op before).
    const result = await upload(
      plain,
      a.dir,
      a.template,
      { HTTP_PROXY: `http://logjam:${SECRET}@127.0.0.1:${proxy.port}`, NODE_USE_ENV_PROXY: '1' },
      ['--log-level', 'debug'],
    );
    expect(result.code, result.stderr).to.equal(0);
    // Every request s3rver answered came through the proxy (the same requests, in order), none around it.
    const origin = named(plain);
    expect(proxy.requests.length).to.be.greaterThan(FILES.length);
    expect(proxy.requests.filter((r) => !r.target.startsWith(`${origin}/`) || r.status === 407)).to.deep.equal([]);
    expect(plain.requests.map((r) => `${r.method} ${r.url}`)).to.deep.equal(
      proxy.requests.map((r) => `${r.method} ${r.target.slice(origin.length)}`),
    );
    await expectUploaded(plain, a);
    // Credentials came from instance metadata, asked directly.
    expect(imds.requests.length).to.be.greaterThan(0);
    expect(proxy.requests.filter((r) => r.target.includes(new URL(imds.endpoint).host))).to.deep.equal([]);
    // The debug log says which proxy, never the password.
    expect(result.stderr).to.include(`proxy: http://logjam:***@127.0.0.1:${proxy.port} (HTTP_PROXY) for ${origin}`);
    expect(result.stderr + result.stdout).not.to.include(SECRET);
  });

  it('web identity: STS is asked through the proxy too, instance metadata not at all', async () => {
    proxy = await startForwardProxy();
    const sts = await startFakeSts();
    try {
      const a = await archive();
      const token = path.join(home, 'web-identity-token');
      await fs.writeFile(token, 'a-token');
      imds.requests.length = 0;
      const env = {
        HTTP_PROXY: proxy.url,
        AWS_WEB_IDENTITY_TOKEN_FILE: token,
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/logjam',
        AWS_ENDPOINT_URL_STS: sts.endpoint,
        AWS_REGION: 'us-east-1',
      };
      const result = await upload(plain, a.dir, a.template, env);
      expect(result.code, result.stderr).to.equal(0);
      expect(sts.calls).to.be.greaterThan(0);
      expect(proxy.requests.filter((r) => r.target.startsWith(`${sts.endpoint}/`))).to.have.length(sts.calls);
      expect(imds.requests).to.deep.equal([]);
      await expectUploaded(plain, a);
    } finally {
      await sts.close();
    }
  });

  it('NO_PROXY=localhost: nothing goes through the proxy', async () => {
    proxy = await startForwardProxy();
    const a = await archive();
    const result = await upload(plain, a.dir, a.template, {
      HTTP_PROXY: proxy.url,
      HTTPS_PROXY: proxy.url,
      NO_PROXY: 'example.com,localhost',
    });
    expect(result.code, result.stderr).to.equal(0);
    await expectUploaded(plain, a);
    expect(proxy.requests).to.deep.equal([]);
  });

  it('HTTPS_PROXY: an HTTPS endpoint is reached through CONNECT tunnels, kept alive, trusting the CA of AWS_CA_BUNDLE', async () => {
    proxy = await startForwardProxy({ credentials: `logjam:${SECRET}` });
    const a = await archive();
    secure.requests.length = 0;
    const env = {
      HTTPS_PROXY: `http://logjam:${SECRET}@127.0.0.1:${proxy.port}`,
      HTTP_PROXY: 'http://127.0.0.1:1',
      AWS_CA_BUNDLE: ca.caFile,
    };
    const result = await upload(secure, a.dir, a.template, env);
    expect(result.code, result.stderr).to.equal(0);
    await expectUploaded(secure, a);
    const port = new URL(secure.endpoint).port;
    expect(proxy.requests.map((r) => `${r.method} ${r.target} ${r.status}`)).to.deep.equal(
      proxy.tunnels().map(() => `CONNECT localhost:${port} 200`),
    );
    // Keep-alive through the tunnels: fewer tunnels than requests.
    expect(proxy.tunnels().length).to.be.greaterThan(0);
    expect(proxy.tunnels().length).to.be.lessThan(secure.requests.length);
  });

  it('http_proxy alone carries HTTPS too, as it did for the Python logjam (boto 2)', async () => {
    proxy = await startForwardProxy();
    const a = await archive();
    const result = await upload(secure, a.dir, a.template, { http_proxy: proxy.url, AWS_CA_BUNDLE: ca.caFile });
    expect(result.code, result.stderr).to.equal(0);
    expect(proxy.tunnels().length).to.be.greaterThan(0);
    expect(proxy.requests.length).to.equal(proxy.tunnels().length);
    await expectUploaded(secure, a);
  });

  it('ca_bundle in the AWS config file is honoured as AWS_CA_BUNDLE is; without a bundle the private CA is not trusted and nothing is marked', async () => {
    const config = path.join(home, 'config-with-ca');
    await fs.writeFile(config, `[default]\nca_bundle = ${ca.caFile}\n`);
    const a = await archive();
    const ok = await upload(secure, a.dir, a.template, { AWS_CONFIG_FILE: config });
    expect(ok.code, ok.stderr).to.equal(0);
    await expectUploaded(secure, a);

    const b = await archive();
    const refused = await upload(secure, b.dir, b.template, {});
    expect(refused.code, refused.stderr).to.equal(1);
    expect(refused.stderr).to.match(/certificate.*AWS_CA_BUNDLE/i);
    expect(await exists(path.join(b.dir, '.uploaded'))).to.equal(false);
  });

  it('a wrong CA bundle is one line and exit 2', async () => {
    const a = await archive();
    const notPem = path.join(home, 'not-a-bundle.pem');
    await fs.writeFile(notPem, 'this is no certificate\n');
    for (const [file, message] of [
      [notPem, `AWS_CA_BUNDLE ${notPem} holds no PEM certificate`],
      [path.join(home, 'missing.pem'), 'no such file'],
    ] as const) {
      const result = await upload(secure, a.dir, a.template, { AWS_CA_BUNDLE: file });
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1);
      expect(result.stderr).to.include(message);
    }
    expect(await exists(path.join(a.dir, '.uploaded'))).to.equal(false);
  });

  describe('a proxy that refuses: one line naming it (password masked), exit 1, nothing marked', () => {
    const cases: Array<{ title: string; https: boolean; start: () => Promise<{ url: string; why: RegExp }> }> = [
      {
        title: '407 to CONNECT (wrong credentials)',
        https: true,
        start: async () => (
          (proxy = await startForwardProxy({ credentials: 'logjam:right' })),
          { url: `http://logjam:${SECRET}@127.0.0.1:${proxy.port}`, why: /refused CONNECT to localhost:\d+: HTTP 407/ }
        ),
      },
      {
        title: '407 to an absolute-URI request',
        https: false,
        start: async () => (
          (proxy = await startForwardProxy({ credentials: 'logjam:right' })),
          {
            url: `http://logjam:${SECRET}@127.0.0.1:${proxy.port}`,
            why: /refused \w+ http:\/\/localhost:\d+: HTTP 407/,
          }
        ),
      },
      {
        title: '502 to CONNECT',
        https: true,
        start: async () => (
          (proxy = await startForwardProxy({ refuse: 502 })),
          { url: `http://logjam:${SECRET}@127.0.0.1:${proxy.port}`, why: /refused CONNECT to localhost:\d+: HTTP 502/ }
        ),
      },
      {
        title: '502 to an absolute-URI request',
        https: false,
        start: async () => (
          (proxy = await startForwardProxy({ refuse: 502 })),
          { url: `http://logjam:${SECRET}@127.0.0.1:${proxy.port}`, why: /HTTP 502/ }
        ),
      },
      {
        title: 'connection refused (HTTPS)',
        https: true,
        start: async () => ({
          url: (await closedEndpoint()).replace('//', `//logjam:${SECRET}@`),
          why: /\) unreachable: ECONNREFUSED/,
        }),
      },
      {
        title: 'connection refused (HTTP)',
        https: false,
        start: async () => ({
          url: (await closedEndpoint()).replace('//', `//logjam:${SECRET}@`),
          why: /\) unreachable: ECONNREFUSED/,
        }),
      },
    ];
    for (const c of cases) {
      it(c.title, async () => {
        const { url, why } = await c.start();
        const store = c.https ? secure : plain;
        const a = await archive();
        store.requests.length = 0;
        const result = await upload(store, a.dir, a.template, {
          [c.https ? 'HTTPS_PROXY' : 'HTTP_PROXY']: url,
          AWS_CA_BUNDLE: ca.caFile,
        });
        expect(result.code, result.stderr).to.equal(1);
        const shown = url.replace(SECRET, '***');
        const lines = result.stderr.trim().split('\n');
        expect(lines, result.stderr).to.have.length(1);
        expect(lines[0]).to.include(`proxy ${shown} (${c.https ? 'HTTPS_PROXY' : 'HTTP_PROXY'})`);
        expect(lines[0]).to.match(why);
        expect(result.stderr).not.to.include(SECRET);
        expect(store.requests).to.deep.equal([]);
        expect(await exists(path.join(a.dir, '.uploaded'))).to.equal(false);
      });
    }
  });

  it('--check says which proxy the endpoint gets, without credentials, and touches no network', async () => {
    const a = await archive();
    const check = (env: NodeJS.ProcessEnv) =>
      runBin('logjam-upload', ['--check', '--endpoint-url', named(plain), a.dir, a.template], {
        cleanEnv: true,
        env: imdsEnv(imds.endpoint, home, env),
      });
    const via = await check({ http_proxy: `http://logjam:${SECRET}@proxy.internal:3128` });
    expect(via.code, via.stderr).to.equal(0);
    expect(via.stdout).to.include(`proxy: http://logjam:***@proxy.internal:3128 (http_proxy) for ${named(plain)}`);
    expect(via.stdout).not.to.include(SECRET);
    const exempt = await check({
      HTTP_PROXY: 'http://proxy.internal:3128',
      no_proxy: '.internal,localhost:' + new URL(plain.endpoint).port,
    });
    expect(exempt.stdout).to.include(`proxy: none for ${named(plain)} (no_proxy exempts it)`);
    const none = await check({});
    expect(none.stdout).not.to.include('proxy');
  });
});

/** A fake STS at http://localhost:PORT answering AssumeRoleWithWebIdentity with s3rver's keys. */
async function startFakeSts(): Promise<{ endpoint: string; calls: number; close(): Promise<void> }> {
  const state = { calls: 0 };
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (!body.includes('Action=AssumeRoleWithWebIdentity')) return void res.writeHead(400).end();
      state.calls += 1;
      const xml = `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>S3RVER</AccessKeyId><SecretAccessKey>S3RVER</SecretAccessKey><SessionToken>session</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/logjam/s</Arn><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId></AssumedRoleUser></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`;
      res.writeHead(200, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) }).end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://localhost:${(server.address() as AddressInfo).port}`,
    get calls() {
      return state.calls;
    },
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
