// What the store does, learned once and remembered (profile.ts): the built
// binary, run after run on one archive folder, against s3rver (behind the
// proxy that plays S3's If-None-Match, or not) and Ceph RGW, every request
// counted at the proxy. The probe must never leave its object behind, even
// when the run is killed in the middle of it, and a promise of
// --conditional-writes that the store does not keep is exit 2, not an overwrite.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DeleteBucketPolicyCommand, ListMultipartUploadsCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import {
  cleanupTmpDirs,
  passCounts,
  runBin,
  startBin,
  STORE_PROFILE,
  tmpDir,
  waitExit,
} from '../../../test/support/index.ts';
import { imdsEnv } from '../../../test/support/imds.ts';
import {
  objectOf,
  s3ErrorXml,
  startFaultProxy,
  type FaultAction,
  type FaultProxy,
} from '../../../test/support/proxy.ts';
import { isProbeKey } from '../../../test/support/s3.ts';
import { describeEachServer, honouredConditionalWrites, useS3AndImds } from '../../../test/support/servers.ts';
import type { IncomingMessage } from 'node:http';

const BUCKET = 'logs';
const DAY_MS = 24 * 60 * 60 * 1000;

describeEachServer('logjam-upload remembers what the store does (store profile)', (kind) => {
  const servers = useS3AndImds({ buckets: [BUCKET], imds: { region: 'eu-west-1' }, server: kind });
  let home: string;
  let proxy: FaultProxy | undefined;
  let n = 0;

  before(async () => {
    home = await tmpDir('logjam-home-');
  });
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });
  after(async () => {
    await cleanupTmpDirs();
  });

  /** `count` archives of 2024-01-05 from hour `from` on, name -> content. */
  const hours = (from: number, count: number) =>
    Object.fromEntries(
      Array.from({ length: count }, (_, i) => [
        `app-20240105T${String(from + i).padStart(2, '0')}00Z.log.gz`,
        `hour ${from + i}\n`,
      ]),
    );
  async function archive(files: Record<string, string>): Promise<string> {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    await add(dir, files);
    return dir;
  }
  async function add(dir: string, files: Record<string, string>): Promise<void> {
    for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
  }
  /** A key prefix no other test uses, and the template under it. */
  function prefix(): { tag: string; template: string } {
    const tag = `sp${++n}`;
    return { tag, template: `s3://${BUCKET}/${tag}/{prefix}/{year}/{month}/{day}/{filename}` };
  }
  const env = () => imdsEnv(servers.imds.endpoint, home);
  const upload = (args: string[]) => runBin('logjam-upload', args, { cleanEnv: true, env: env() });
  const via = (p: FaultProxy, dir: string, template: string, mode: string[] = []) => [
    '--once',
    '--endpoint-url',
    p.endpoint,
    '--force-path-style',
    ...mode,
    dir,
    template,
  ];
  const isProbe = (r: { url: string }) => isProbeKey(r.url.split('?')[0]!);
  /** Objects under the probe folder of `tag` (listed with the store's own keys, which no policy of a test limits). */
  const probeObjects = async (tag: string) => (await servers.s3.keys(BUCKET, `${tag}/`)).filter(isProbeKey);
  /** Each request as METHOD and what it is on: `HEAD bucket`, `PUT object`. */
  const shapes = (requests: { method: string; url: string }[]) =>
    requests.map((r) => `${r.method} ${objectOf(r.url) ? 'object' : 'bucket'}`).sort();
  async function expectUploaded(tag: string, files: Record<string, string>): Promise<void> {
    for (const [name, content] of Object.entries(files))
      expect((await servers.s3.download(BUCKET, `${tag}/app/2024/01/05/${name}`)).toString()).to.equal(content);
  }
  /** Makes the profile's probes `days` older, as if they had been made then. */
  async function ageProfile(dir: string, days: number): Promise<void> {
    const file = path.join(dir, '.uploaded', STORE_PROFILE);
    const profile = JSON.parse(await fs.readFile(file, 'utf8')) as { stores: Record<string, { probedAt?: number }> };
    for (const facts of Object.values(profile.stores))
      if (facts.probedAt !== undefined) facts.probedAt -= days * DAY_MS;
    await fs.writeFile(file, JSON.stringify(profile));
  }

  it('the second run sends no probe: HeadBucket and one PUT per new archive where the PUT is conditional; no probe object stays', async () => {
    proxy = await startFaultProxy({ target: servers.s3.endpoint, conditionalWrites: servers.s3.playConditionalWrites });
    const { tag, template } = prefix();
    const dir = await archive(hours(0, 3));
    const first = await upload(via(proxy, dir, template));
    expect(first.code, first.stderr).to.equal(0);
    expect(proxy.requests.filter(isProbe)).not.to.deep.equal([]);
    const stat = await fs.lstat(path.join(dir, '.uploaded', STORE_PROFILE));
    expect(stat.isFile()).to.equal(true);
    expect(stat.mode & 0o777).to.equal(0o600);

    await add(dir, hours(3, 3));
    proxy.requests.length = 0;
    const second = await upload(via(proxy, dir, template));
    expect(second.code, second.stderr).to.equal(0);
    expect(passCounts(second.stderr)).to.deep.include({ pending: 3, uploaded: 3 });
    expect(shapes(proxy.requests)).to.deep.equal(['HEAD bucket', 'PUT object', 'PUT object', 'PUT object']);
    expect(await probeObjects(tag)).to.deep.equal([]);
    await expectUploaded(tag, hours(0, 6));
  });

  if (kind === 's3rver') {
    it('a store that ignores If-None-Match is remembered too: the second run sends no probe, and a HEAD before each PUT', async () => {
      proxy = await startFaultProxy({ target: servers.s3.endpoint });
      const { tag, template } = prefix();
      const dir = await archive(hours(0, 2));
      const first = await upload(via(proxy, dir, template));
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stderr.match(/does not support conditional writes/g)).to.have.length(1);
      await add(dir, hours(2, 2));
      proxy.requests.length = 0;
      servers.s3.requests.length = 0;
      const second = await upload(via(proxy, dir, template));
      expect(second.code, second.stderr).to.equal(0);
      expect(second.stderr).not.to.match(/does not support conditional writes/);
      expect(shapes(proxy.requests)).to.deep.equal([
        'HEAD bucket',
        'HEAD object',
        'HEAD object',
        'PUT object',
        'PUT object',
      ]);
      expect(servers.s3.requests.filter((r) => r.headers['if-none-match'])).to.deep.equal([]);
      expect(await probeObjects(tag)).to.deep.equal([]);
    });
  }

  it('a run killed at any request of its probe leaves at most its one probe object (and upload), which the next run removes', async () => {
    // The probe's requests that reach the store, from a clean run.
    proxy = await startFaultProxy({ target: servers.s3.endpoint, conditionalWrites: servers.s3.playConditionalWrites });
    const clean = await upload(via(proxy, await archive(hours(0, 1)), prefix().template));
    expect(clean.code, clean.stderr).to.equal(0);
    const probeRequests = proxy.requests.filter((r) => isProbe(r) && r.action === 'pass').length;
    expect(probeRequests).to.be.greaterThan(2);
    await proxy.close();

    let leftByKills = 0;
    for (let k = 0; k < probeRequests; k += 1) {
      const { tag, template } = prefix();
      const dir = await archive(hours(0, 1));
      const run: { child?: ReturnType<typeof startBin> } = {};
      let seen = 0;
      // At the k-th probe request, before it is forwarded: the run is killed, then the request goes on (a lost answer).
      const gate = async (req: IncomingMessage) => {
        if (!isProbeKey((req.url ?? '').split('?')[0]!) || seen++ !== k || !run.child) return;
        run.child.kill('SIGKILL');
        await waitExit(run.child);
      };
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        conditionalWrites: servers.s3.playConditionalWrites,
        gate,
      });
      run.child = startBin('logjam-upload', via(proxy, dir, template), { cleanEnv: true, env: env() });
      const killed = await waitExit(run.child);
      expect(killed.signal, killed.stderr).to.equal('SIGKILL');
      leftByKills += (await probeObjects(tag)).length;
      const again = await upload(via(proxy, dir, template));
      expect(again.code, again.stderr).to.equal(0);
      expect(await probeObjects(tag), `killed at probe request ${k}`).to.deep.equal([]);
      // s3rver cannot list unfinished uploads (501); RGW can.
      if (kind === 'rgw') {
        const unfinished = await servers.s3.client.send(
          new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: `${tag}/` }),
        );
        expect(unfinished.Uploads ?? [], `killed at probe request ${k}: unfinished uploads`).to.deep.equal([]);
      }
      await expectUploaded(tag, hours(0, 1));
      await proxy.close();
      proxy = undefined;
    }
    // The kills did strand probe objects: it is the next run that removed them.
    expect(leftByKills).to.be.greaterThan(0);
  });

  it('--conditional-writes yes (or put-only) is verified once and remembered: the second run sends no probe', async () => {
    proxy = await startFaultProxy({ target: servers.s3.endpoint, conditionalWrites: servers.s3.playConditionalWrites });
    const mode = honouredConditionalWrites(servers.s3, proxy.playsConditionalWrites);
    const { tag, template } = prefix();
    const dir = await archive(hours(0, 1));
    const first = await upload(via(proxy, dir, template, mode));
    expect(first.code, first.stderr).to.equal(0);
    expect(proxy.requests.filter(isProbe)).not.to.deep.equal([]);
    await add(dir, hours(1, 1));
    proxy.requests.length = 0;
    const second = await upload(via(proxy, dir, template, mode));
    expect(second.code, second.stderr).to.equal(0);
    expect(shapes(proxy.requests)).to.deep.equal(['HEAD bucket', 'PUT object']);
    expect(await probeObjects(tag)).to.deep.equal([]);
  });

  if (kind === 's3rver') {
    it('--conditional-writes put-only on a store that honours more: the profile keeps what the store does, not what was said', async () => {
      proxy = await startFaultProxy({ target: servers.s3.endpoint, conditionalWrites: true });
      const { template } = prefix();
      const dir = await archive(hours(0, 1));
      for (const files of [hours(1, 1), hours(2, 1)]) {
        const result = await upload(via(proxy, dir, template, ['--conditional-writes', 'put-only']));
        expect(result.code, result.stderr).to.equal(0);
        await add(dir, files);
      }
      const profile = JSON.parse(await fs.readFile(path.join(dir, '.uploaded', STORE_PROFILE), 'utf8')) as {
        stores: Record<string, { writes?: unknown }>;
      };
      expect(Object.values(profile.stores).map((facts) => facts.writes)).to.deep.equal([{ put: true, complete: true }]);
    });
  }

  it('--conditional-writes yes against a store that does not keep it: exit 2 naming the option, and the object at the key is unchanged', async () => {
    // s3rver ignores If-None-Match altogether; RGW honours it on PutObject only.
    const { tag, template } = prefix();
    const name = 'app-20240105T1300Z.log.gz';
    const key = `${tag}/app/2024/01/05/${name}`;
    await servers.s3.put(BUCKET, key, "another writer's object\n");
    const dir = await archive({ [name]: 'ours\n' });
    const result = await upload([
      '--once',
      '--endpoint-url',
      servers.s3.endpoint,
      '--force-path-style',
      '--conditional-writes',
      'yes',
      dir,
      template,
    ]);
    expect(result.code, result.stderr).to.equal(2);
    expect(result.stderr).to.match(
      kind === 'rgw'
        ? / CRITICAL --conditional-writes yes: the store at \S+ ignores If-None-Match on CompleteMultipartUpload .*; use --conditional-writes put-only or auto.* exit=2$/m
        : / CRITICAL --conditional-writes yes: the store at \S+ ignores If-None-Match on PutObject .*; use --conditional-writes no or auto.* exit=2$/m,
    );
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect((await servers.s3.download(BUCKET, key)).toString()).to.equal("another writer's object\n");
    expect(await fs.readdir(path.join(dir, '.uploaded')).catch(() => [])).not.to.include(name);
    expect(await probeObjects(tag)).to.deep.equal([]);
  });

  it('a store that answers 501 to If-None-Match after a probe found it honoured: remembered, and the next run checks with HEAD, without a probe', async () => {
    let refuseConditional = false;
    const rule = (req: IncomingMessage): FaultAction =>
      refuseConditional && req.headers['if-none-match']
        ? {
            status: 501,
            body: s3ErrorXml('NotImplemented', 'A header you provided implies functionality that is not implemented'),
          }
        : 'pass';
    proxy = await startFaultProxy({
      target: servers.s3.endpoint,
      conditionalWrites: servers.s3.playConditionalWrites,
      rule,
    });
    const { tag, template } = prefix();
    const dir = await archive(hours(0, 1));
    expect((await upload(via(proxy, dir, template))).code).to.equal(0);
    refuseConditional = true;
    await add(dir, hours(1, 1));
    const contradicted = await upload(via(proxy, dir, template));
    expect(contradicted.code, contradicted.stderr).to.equal(0);
    expect(proxy.requests.filter((r) => r.action === '501')).to.have.length(1);
    await add(dir, hours(2, 1));
    proxy.requests.length = 0;
    const next = await upload(via(proxy, dir, template));
    expect(next.code, next.stderr).to.equal(0);
    expect(shapes(proxy.requests)).to.deep.equal(['HEAD bucket', 'HEAD object', 'PUT object']);
    expect(proxy.requests.filter((r) => r.action === '501')).to.deep.equal([]);
    await expectUploaded(tag, hours(0, 3));
  });

  it('a probe older than a week is made again, under the same key', async () => {
    proxy = await startFaultProxy({ target: servers.s3.endpoint, conditionalWrites: servers.s3.playConditionalWrites });
    const { tag, template } = prefix();
    const dir = await archive(hours(0, 1));
    expect((await upload(via(proxy, dir, template))).code).to.equal(0);
    const firstKeys = new Set(proxy.requests.filter(isProbe).map((r) => objectOf(r.url)!.key));
    await ageProfile(dir, 6);
    await add(dir, hours(1, 1));
    proxy.requests.length = 0;
    expect((await upload(via(proxy, dir, template))).code).to.equal(0);
    expect(proxy.requests.filter(isProbe), 'six days old: still trusted').to.deep.equal([]);
    await ageProfile(dir, 2);
    await add(dir, hours(2, 1));
    proxy.requests.length = 0;
    expect((await upload(via(proxy, dir, template))).code).to.equal(0);
    const again = proxy.requests.filter(isProbe);
    expect(again).not.to.deep.equal([]);
    expect(new Set(again.map((r) => objectOf(r.url)!.key))).to.deep.equal(firstKeys);
    expect(firstKeys.size).to.equal(1);
    expect(await probeObjects(tag)).to.deep.equal([]);
  });

  it('under a PutObject-only policy: ten runs leave at most one probe object, each refusal is one WARN, said once, and a run costs HeadBucket + N', async () => {
    // RGW: a bucket policy denies the uploader everything but writes; s3rver has none, so the proxy refuses as S3 would.
    const policy = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: { AWS: ['arn:aws:iam:::user/logjam'] },
          Action: ['s3:GetObject', 's3:ListBucket', 's3:DeleteObject'],
          Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
        },
      ],
    };
    const denied = { status: 403, body: s3ErrorXml('AccessDenied', 'Access Denied') };
    const rule = (req: IncomingMessage): FaultAction => {
      if (kind === 'rgw') return 'pass';
      const url = req.url ?? '';
      if (req.method === 'HEAD') return { status: 403 };
      if (req.method === 'GET' || (req.method === 'DELETE' && !url.includes('uploadId='))) return denied;
      return 'pass';
    };
    const { tag, template } = prefix();
    const dir = await archive({});
    const stderr: string[] = [];
    /** Where the last run's requests begin. */
    let last = 0;
    if (kind === 'rgw')
      await servers.s3.client.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(policy) }));
    try {
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        conditionalWrites: servers.s3.playConditionalWrites,
        rule,
      });
      for (let run = 0; run < 10; run += 1) {
        // Half-way, the profile is a week old: the probe runs again, onto the same key.
        if (run === 5) await ageProfile(dir, 8);
        await add(dir, hours(run, 1));
        last = proxy.requests.length;
        const result = await upload(via(proxy, dir, template));
        expect(result.code, result.stderr).to.equal(0);
        stderr.push(result.stderr);
      }
    } finally {
      if (kind === 'rgw') await servers.s3.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
    }
    const all = stderr.join('');
    expect(
      proxy.requests
        .filter((r) => isProbe(r) && r.method === 'DELETE' && !r.url.includes('uploadId='))
        .map((r) => r.status ?? Number(r.action)),
    ).to.deep.equal([403, 403]);
    expect(
      all.match(/WARN cannot delete the probe object \S+\.logjam-probe\/\S+ \(AccessDenied: no s3:DeleteObject\?\)/g),
    ).to.have.length(1);
    expect(all.match(/WARN HeadBucket refused/g)).to.have.length(1);
    expect(all.match(/WARN listing refused/g) ?? []).to.have.length.at.most(1);
    expect(await probeObjects(tag)).to.have.length(1);
    // The steady state under this policy: HeadBucket (its refusal remembered: no GET to tell why) and one PUT.
    expect(shapes(proxy.requests.slice(last))).to.deep.equal(['HEAD bucket', 'PUT object']);
    await expectUploaded(tag, hours(0, 10));
  });
});
