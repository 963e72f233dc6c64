// logjam-upload as a user runs it: the built binary against a real S3 protocol
// server on 127.0.0.1 (s3rver, and Ceph RGW when one runs), with credentials
// coming only from a fake instance-metadata service (no AWS_* credential
// variable, no config files).
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketPolicyCommand,
  ListMultipartUploadsCommand,
  PutBucketPolicyCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { parseLogName } from '@logjam/core';
import {
  cleanupTmpDirs,
  makeArchiveDir,
  exists,
  ls,
  passCounts,
  patternedBytes,
  runBin,
  startBin,
  tmpDir,
  waitExit,
  waitFor,
} from '../../../test/support/index.ts';
import { holdLock } from '../../../test/support/lock-holder.ts';
import { closedEndpoint, imdsEnv, startFakeImds } from '../../../test/support/imds.ts';
import { objectOf, s3ErrorXml, startFaultProxy, type FaultProxy } from '../../../test/support/proxy.ts';
import { RGW_OTHER, rgwEndpoint } from '../../../test/support/rgw.ts';
import { isProbeKey, testClient } from '../../../test/support/s3.ts';
import { describeEachServer, honouredConditionalWrites, useS3AndImds } from '../../../test/support/servers.ts';

const BUCKET = 'logs';

describeEachServer('logjam-upload (built binary, instance-role credentials)', (kind) => {
  const servers = useS3AndImds({ buckets: [BUCKET], imds: { region: 'eu-west-1' }, server: kind });
  let home: string;
  let n = 0;

  before(async () => {
    home = await tmpDir('logjam-home-');
  });
  after(async () => {
    await cleanupTmpDirs();
  });

  /** A fresh ARCHIVE_DIR (named archive), with files NAME -> content. */
  const archive = makeArchiveDir;

  /** A template whose keys no other test uses. */
  function template(): { template: string; key: (prefix: string, name: string) => string } {
    const tag = `t${++n}`;
    return {
      template: `s3://${BUCKET}/${tag}/{prefix}/{year}/{month}/{day}/{filename}`,
      key: (prefix, name) => {
        const log = parseLogName(name)!;
        return `${tag}/${prefix}/${log.year}/${log.month}/${log.day}/${name}`;
      },
    };
  }

  function upload(args: string[], options: { imdsEndpoint?: string; env?: NodeJS.ProcessEnv } = {}) {
    return runBin('logjam-upload', args, {
      cleanEnv: true,
      env: imdsEnv(options.imdsEndpoint ?? servers.imds.endpoint, home, options.env),
    });
  }
  const honoured = (played: boolean) => honouredConditionalWrites(servers.s3, played);
  const target = () => ['--endpoint-url', servers.s3.endpoint, '--force-path-style', ...honoured(false)];

  function expectCleanStderr(stderr: string) {
    expect(stderr).not.to.match(/Warning|NodeVersionSupport|\n\s+at /);
  }

  it('uploads every archive under its rendered key, byte for byte, with instance-role credentials, and writes the markers', async () => {
    const small = Buffer.from('GET / 200\n'.repeat(100));
    const dir = await archive({ 'app-20240105T1300Z-web1.log.gz': small, 'db-2024-02-29T23:00Z.log.gz': 'db lines\n' });
    const t = template();
    servers.imds.requests.length = 0;
    const result = await upload(['--once', ...target(), dir, t.template]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal('');
    expectCleanStderr(result.stderr);
    expect(result.stderr).to.match(
      /INFO uploaded file=app-20240105T1300Z-web1.log.gz uri=s3:\/\/logs\/t\d+\/app\/2024\/01\/05\/app-20240105T1300Z-web1.log.gz bytes=1000 ms=\d+/,
    );
    expect(result.stderr).to.match(/INFO pass done pending=2 uploaded=2/);
    expect(await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1300Z-web1.log.gz'))).to.deep.equal(small);
    expect((await servers.s3.download(BUCKET, t.key('db', 'db-2024-02-29T23:00Z.log.gz'))).toString()).to.equal(
      'db lines\n',
    );
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([
      'app-20240105T1300Z-web1.log.gz',
      'db-2024-02-29T23:00Z.log.gz',
    ]);
    const head = await servers.s3.head(BUCKET, t.key('app', 'app-20240105T1300Z-web1.log.gz'));
    expect(head?.Metadata?.['logjam-md5']).to.equal(createHash('md5').update(small).digest('hex'));
    // The credentials and the region came from instance metadata (IMDSv2: with a token).
    expect(
      servers.imds.requests.filter(
        (r) => r.path.startsWith('/latest/meta-data/iam/security-credentials/logjam-test-role') && r.token,
      ),
    ).to.have.length.greaterThan(0);
    expect(servers.imds.count('/latest/meta-data/placement/region')).to.be.greaterThan(0);
  });

  it('uploads .zst archives (--format zstd) as .gz ones: byte for byte, under the file name, Content-Type application/zstd, marked, counted by --check', async () => {
    // Bytes of a zstd frame or not, logjam-upload does not read them: the name's extension decides the type.
    const zst = patternedBytes(3000);
    const dir = await archive({
      'app-20240105T1300Z-web1.log.zst': zst,
      'app-20240105T1400Z-web1.log.zst': zst.subarray(1),
      'app-20240105T1300Z-web1.log.gz': 'gz\n',
    });
    const t = template();
    const before = await runBin('logjam-upload', ['--check', '--max-age', '100000d', dir, t.template]);
    expect(before.stdout, before.stderr).to.match(/^OK: 3 files waiting for upload/);
    const result = await upload(['--once', ...target(), dir, t.template]);
    expect(result.code, result.stderr).to.equal(0);
    expectCleanStderr(result.stderr);
    expect(result.stderr).to.match(/INFO pass done pending=3 uploaded=3/);
    expect(await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1300Z-web1.log.zst'))).to.deep.equal(zst);
    expect(await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1400Z-web1.log.zst'))).to.deep.equal(
      zst.subarray(1),
    );
    expect((await servers.s3.head(BUCKET, t.key('app', 'app-20240105T1300Z-web1.log.zst')))?.ContentType).to.equal(
      'application/zstd',
    );
    expect(
      (await servers.s3.head(BUCKET, t.key('app', 'app-20240105T1300Z-web1.log.gz')))?.ContentType,
      'a .gz keeps the type it had',
    ).not.to.equal('application/zstd');
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([
      'app-20240105T1300Z-web1.log.gz',
      'app-20240105T1300Z-web1.log.zst',
      'app-20240105T1400Z-web1.log.zst',
    ]);
    const after = await runBin('logjam-upload', ['--check', dir, t.template]);
    expect(after.stdout, after.stderr).to.match(/^OK: nothing waiting for upload|^OK: 0 files/);
  });

  it('uploads nothing on a second run, and skips a file whose marker exists even if the object is missing', async () => {
    const dir = await archive({ 'app-20240105T1300Z.log.gz': 'one\n', 'app-20240105T1400Z.log.gz': 'two\n' });
    const t = template();
    expect((await upload(['--once', ...target(), dir, t.template])).code).to.equal(0);
    // A marker without an object: as the Python tool, the marker wins.
    await fs.writeFile(path.join(dir, 'app-20240105T1500Z.log.gz'), 'three\n');
    await fs.writeFile(path.join(dir, '.uploaded', 'app-20240105T1500Z.log.gz'), '');
    servers.s3.requests.length = 0;
    const second = await upload(['--once', ...target(), dir, t.template]);
    expect(second.code, second.stderr).to.equal(0);
    expect(servers.s3.writes()).to.deep.equal([]);
    expect(second.stderr).to.match(/pass done pending=0 uploaded=0/);
    expect(await servers.s3.head(BUCKET, t.key('app', 'app-20240105T1500Z.log.gz'))).to.equal(null);
  });

  it('only writes the marker when the same object is already there (nothing written), for a single-part and a multipart object', async () => {
    const big = patternedBytes(11 * 1024 * 1024 + 123);
    const dir = await archive({ 'app-20240105T1300Z.log.gz': 'hello\n', 'big-20240105T1300Z.log.gz': big });
    const t = template();
    servers.s3.requests.length = 0;
    const first = await upload(['--once', '--multipart-threshold', '5M', ...target(), dir, t.template]);
    expect(first.code, first.stderr).to.equal(0);
    // The big one went multipart (parts carry an uploadId), and came back byte for byte.
    const parts = servers.s3.requests.filter(
      (r) => r.method === 'PUT' && r.url.includes('uploadId=') && !isProbeKey(r.url),
    );
    expect(parts).to.have.length(3);
    // Every write carries a Content-MD5 the store can check, and a plain body (no aws-chunked framing).
    for (const write of servers.s3.writes().filter((r) => r.method === 'PUT')) {
      expect(write.headers['content-md5'], write.url).to.match(/^[A-Za-z0-9+/]{22}==$/);
      expect(String(write.headers['content-encoding'] ?? '')).not.to.include('aws-chunked');
    }
    expect((await servers.s3.download(BUCKET, t.key('big', 'big-20240105T1300Z.log.gz'))).equals(big)).to.equal(true);

    const before = await servers.s3.head(BUCKET, t.key('big', 'big-20240105T1300Z.log.gz'));
    await fs.rm(path.join(dir, '.uploaded'), { recursive: true });
    servers.s3.requests.length = 0;
    const again = await upload(['--once', '--multipart-threshold', '5M', ...target(), dir, t.template]);
    expect(again.code, again.stderr).to.equal(0);
    expect(servers.s3.writes()).to.deep.equal([]);
    expect(again.stderr).to.match(/already in S3; marked as uploaded file=big-20240105T1300Z.log.gz/);
    expect(again.stderr).to.match(/pass done pending=2 uploaded=0 already=2/);
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([
      'app-20240105T1300Z.log.gz',
      'big-20240105T1300Z.log.gz',
    ]);
    expect((await servers.s3.head(BUCKET, t.key('big', 'big-20240105T1300Z.log.gz')))?.LastModified).to.deep.equal(
      before?.LastModified,
    );
  });

  // s3rver gives a multipart object the plain MD5 as its ETag; RGW gives it MD5-N, as S3 does.
  (kind === 'rgw' ? it : it.skip)(
    'recognises the same file uploaded by another tool as multipart (8 MiB parts, no logjam metadata) by its ETag: marked, not copied',
    async () => {
      const MiB = 1024 * 1024;
      const body = patternedBytes(2 * 8 * MiB + 12_345, 2246822519);
      const name = 'big-20240105T1300Z.log.gz';
      const t = template();
      const key = t.key('big', name);
      // As the AWS CLI uploads it: 8 MiB parts, no metadata.
      const client = servers.s3.client;
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
      const parts = [];
      for (let i = 0; i * 8 * MiB < body.length; i += 1) {
        const { ETag } = await client.send(
          new UploadPartCommand({
            Bucket: BUCKET,
            Key: key,
            UploadId,
            PartNumber: i + 1,
            Body: body.subarray(i * 8 * MiB, (i + 1) * 8 * MiB),
          }),
        );
        parts.push({ PartNumber: i + 1, ETag });
      }
      await client.send(
        new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
      );
      const before = await servers.s3.head(BUCKET, key);
      expect(before?.ETag).to.match(/-3"$/);
      const dir = await archive({ [name]: body });
      const result = await upload(['--once', ...target(), dir, t.template]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.match(/already in S3; marked as uploaded file=big-20240105T1300Z\.log\.gz/);
      expect(await servers.s3.keys(BUCKET, key.split('/')[0])).to.deep.equal([key]);
      expect((await servers.s3.head(BUCKET, key))?.LastModified).to.deep.equal(before?.LastModified);
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([name]);
    },
  );

  describe('many files under one key prefix: one listing instead of a HEAD per file, where no PUT can go first', () => {
    const day = (n: number) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, h) => [
          `app-20240105T${String(h).padStart(2, '0')}00Z.log.gz`,
          `hour ${h}\n`.repeat(h + 1),
        ]),
      );
    const objectHeads = () => servers.s3.requests.filter((r) => r.method === 'HEAD' && objectOf(r.url));

    it("where the PUT is conditional it goes first (no HEAD, no listing); after lost markers, the folder's first 412 makes one listing settle the rest", async () => {
      const files = day(12);
      const dir = await archive(files);
      const t = template();
      // s3rver's PUT is conditional as the proxy plays it; RGW's by itself.
      const proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        conditionalWrites: servers.s3.playConditionalWrites,
      });
      try {
        // One job: the first 412 is in before the next file is looked at.
        const args = [
          '--once',
          '--jobs',
          '1',
          '--endpoint-url',
          proxy.endpoint,
          '--force-path-style',
          ...honoured(proxy.playsConditionalWrites),
          dir,
          t.template,
        ];
        const first = await upload(args);
        expect(first.code, first.stderr).to.equal(0);
        expect(first.stderr).to.match(/pass done pending=12 uploaded=12/);
        expect(proxy.requests.filter((r) => r.method === 'HEAD' && objectOf(r.url))).to.deep.equal([]);
        expect(proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('list-type=2'))).to.deep.equal([]);
        // --conditional-writes yes is verified once, by a probe (tested on its own): not counted here.
        expect(
          proxy.requests.filter((r) => r.method === 'PUT' && objectOf(r.url) && !isProbeKey(r.url)),
        ).to.have.length(12);
        for (const [name, content] of Object.entries(files))
          expect((await servers.s3.download(BUCKET, t.key('app', name))).toString()).to.equal(content);
        expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(Object.keys(files).sort());

        await fs.rm(path.join(dir, '.uploaded'), { recursive: true });
        proxy.requests.length = 0;
        const second = await upload(args);
        expect(second.code, second.stderr).to.equal(0);
        expect(second.stderr).to.match(/pass done pending=12 uploaded=0 already=12/);
        const first412 = t.key('app', 'app-20240105T0000Z.log.gz');
        expect(
          proxy.requests.filter((r) => r.method === 'HEAD' && objectOf(r.url)).map((r) => objectOf(r.url)!.key),
        ).to.deep.equal([first412]);
        expect(proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('list-type=2'))).to.have.length(1);
        // Lost with the markers: the store profile beside them, so the probe runs again (not counted here).
        expect(
          proxy.requests
            .filter((r) => (r.method === 'PUT' || r.method === 'POST') && !isProbeKey(r.url))
            .map((r) => [objectOf(r.url)!.key, r.status]),
        ).to.deep.equal([[first412, 412]]);
        expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(Object.keys(files).sort());
      } finally {
        await proxy.close();
      }
    });

    it('a listed object that is not plainly this file (different bytes; a multipart ETag) is decided by HEAD: never overwritten, or recognised', async () => {
      const big = Buffer.alloc(6 * 1024 * 1024 + 7, 'b');
      const files: Record<string, string | Buffer> = { ...day(5), 'app-20240105T2300Z.log.gz': big };
      const dir = await archive(files);
      const t = template();
      expect((await upload(['--once', '--multipart-threshold', '5M', ...target(), dir, t.template])).code).to.equal(0);
      await fs.rm(path.join(dir, '.uploaded'), { recursive: true });
      // Someone else's object under one of our keys, and a new file of ours.
      await servers.s3.put(BUCKET, t.key('app', 'app-20240105T0000Z.log.gz'), 'theirs\n');
      servers.s3.requests.length = 0;
      // One job: on RGW, where the PUT goes first, the replaced key's 412 is in before the next file is looked at.
      const again = await upload([
        '--once',
        '--jobs',
        '1',
        '--multipart-threshold',
        '5M',
        ...target(),
        dir,
        t.template,
      ]);
      expect(again.code, again.stderr).to.equal(0);
      // HEAD only for keys the listing cannot settle: the replaced one (then its conflict key, unless the
      // PUT there is conditional: RGW), and the multipart object unless the store lists it with a plain
      // MD5 ETag (s3rver does; S3 does not). On RGW the replaced key's 412 is what starts the listing.
      const headed = objectHeads().map((r) => objectOf(r.url)!.key);
      const conflictKey = t.key('app', 'app-logjam-upload-conflict-01-20240105T0000Z.log.gz');
      expect(headed.filter((k) => k !== t.key('app', 'app-20240105T2300Z.log.gz')).sort()).to.deep.equal(
        [t.key('app', 'app-20240105T0000Z.log.gz'), ...(kind === 'rgw' ? [] : [conflictKey])].sort(),
      );
      expect(passCounts(again.stderr)).to.deep.include({
        pending: 6,
        uploaded: 0,
        already: 5,
        conflicts: 1,
        failed: 0,
        left: 0,
      });
      expect(servers.s3.writes().filter((r) => r.method === 'PUT')).to.have.length(1);
      expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T0000Z.log.gz'))).toString()).to.equal(
        'theirs\n',
      );
      expect(
        (
          await servers.s3.download(BUCKET, t.key('app', 'app-logjam-upload-conflict-01-20240105T0000Z.log.gz'))
        ).toString(),
      ).to.equal(files['app-20240105T0000Z.log.gz']);
      expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T2300Z.log.gz'))).equals(big)).to.equal(true);
    });

    it('without s3:ListBucket (listing refused): after lost markers, a conditional PUT and a HEAD per file, each recognised once', async () => {
      const proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        conditionalWrites: servers.s3.playConditionalWrites,
        rule: (req) =>
          req.method === 'GET' && (req.url ?? '').includes('list-type=2')
            ? { status: 403, body: s3ErrorXml('AccessDenied', 'Access Denied') }
            : 'pass',
      });
      try {
        const files = day(6);
        const dir = await archive(files);
        const t = template();
        const args = [
          '--once',
          '--jobs',
          '1',
          '--endpoint-url',
          proxy.endpoint,
          '--force-path-style',
          ...honoured(true),
          dir,
          t.template,
        ];
        expect((await upload(args)).code).to.equal(0);
        await fs.rm(path.join(dir, '.uploaded'), { recursive: true });
        proxy.requests.length = 0;
        const result = await upload(args);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stderr).to.match(/pass done pending=6 uploaded=0 already=6/);
        expect(proxy.requests.filter((r) => r.method === 'GET' && r.url.includes('list-type=2'))).to.have.length(1);
        expect(proxy.requests.filter((r) => r.method === 'HEAD' && objectOf(r.url))).to.have.length(6);
        expect(
          proxy.requests
            .filter((r) => r.method === 'PUT' && objectOf(r.url) && !isProbeKey(r.url))
            .map((r) => r.status),
        ).to.deep.equal(Array(6).fill(412));
        for (const [name, content] of Object.entries(files))
          expect((await servers.s3.download(BUCKET, t.key('app', name))).toString()).to.equal(content);
        expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(Object.keys(files).sort());
      } finally {
        await proxy.close();
      }
    });
  });

  it('never overwrites a different object, even of the same size: uploads to the next free conflict key and warns', async () => {
    const dir = await archive({
      'app-20240105T1300Z-web1.log.gz': 'ours A\n',
      'app-20240105T1400Z.log.gz': 'ours B\n',
      'app-20240105T1500Z.log.gz': 'ours C\n',
    });
    const t = template();
    const keyA = t.key('app', 'app-20240105T1300Z-web1.log.gz');
    const keyB = t.key('app', 'app-20240105T1400Z.log.gz');
    const conflictB1 = t.key('app', 'app-logjam-upload-conflict-01-20240105T1400Z.log.gz');
    await servers.s3.put(BUCKET, keyA, 'theirs A\n');
    await servers.s3.put(BUCKET, keyB, 'theirs B\n');
    await servers.s3.put(BUCKET, conflictB1, 'theirs B, conflict 1\n');
    // The same size as ours (7 bytes), other bytes: only the MD5 tells them apart.
    const keyC = t.key('app', 'app-20240105T1500Z.log.gz');
    await servers.s3.put(BUCKET, keyC, 'them C\n');
    const result = await upload(['--once', ...target(), dir, t.template]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/WARN a different object already holds this key/);
    expect(result.stderr).to.match(/WARN uploaded beside a different object/);
    expect((await servers.s3.download(BUCKET, keyA)).toString()).to.equal('theirs A\n');
    expect(
      (
        await servers.s3.download(BUCKET, t.key('app', 'app-logjam-upload-conflict-01-20240105T1300Z-web1.log.gz'))
      ).toString(),
    ).to.equal('ours A\n');
    expect((await servers.s3.download(BUCKET, keyB)).toString()).to.equal('theirs B\n');
    expect((await servers.s3.download(BUCKET, conflictB1)).toString()).to.equal('theirs B, conflict 1\n');
    expect(
      (
        await servers.s3.download(BUCKET, t.key('app', 'app-logjam-upload-conflict-02-20240105T1400Z.log.gz'))
      ).toString(),
    ).to.equal('ours B\n');
    expect((await servers.s3.download(BUCKET, keyC)).toString()).to.equal('them C\n');
    expect(
      (
        await servers.s3.download(BUCKET, t.key('app', 'app-logjam-upload-conflict-01-20240105T1500Z.log.gz'))
      ).toString(),
    ).to.equal('ours C\n');
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([
      'app-20240105T1300Z-web1.log.gz',
      'app-20240105T1400Z.log.gz',
      'app-20240105T1500Z.log.gz',
    ]);
    // The next run does not upload them again.
    servers.s3.requests.length = 0;
    expect((await upload(['--once', ...target(), dir, t.template])).code).to.equal(0);
    expect(servers.s3.writes()).to.deep.equal([]);
  });

  it('uploads the good files and exits 1 when one archive cannot be read', async () => {
    const dir = await archive({ 'app-20240105T1300Z.log.gz': 'good 1\n', 'app-20240105T1500Z.log.gz': 'good 2\n' });
    const bad = path.join(dir, 'app-20240105T1400Z.log.gz');
    // As root, chmod 000 does not stop a read: a dangling symlink named like an archive fails the same way.
    if (process.getuid?.() === 0) await fs.symlink(path.join(dir, 'gone'), bad);
    else {
      await fs.writeFile(bad, 'unreadable\n');
      await fs.chmod(bad, 0o000);
    }
    const t = template();
    const result = await upload(['--once', ...target(), dir, t.template]);
    expect(result.code, result.stderr).to.equal(1);
    expect(result.stderr).to.match(/ERROR upload failed; will retry on the next run file=app-20240105T1400Z.log.gz/);
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([
      'app-20240105T1300Z.log.gz',
      'app-20240105T1500Z.log.gz',
    ]);
    expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1500Z.log.gz'))).toString()).to.equal(
      'good 2\n',
    );
    expect(await servers.s3.head(BUCKET, t.key('app', 'app-20240105T1400Z.log.gz'))).to.equal(null);
  });

  it('--dry-run prints FILE -> URI on stdout and touches nothing: no network, no marker, no lock', async () => {
    const dir = await archive({
      'app-20240105T1300Z-web1.log.gz': 'x',
      'db-20240105T1400Z.log.gz': 'y',
      '.partial.tmp': 'z',
    });
    await fs.mkdir(path.join(dir, '.uploaded'));
    await fs.writeFile(path.join(dir, '.uploaded', 'db-20240105T1400Z.log.gz'), '');
    const t = template();
    servers.s3.requests.length = 0;
    servers.imds.requests.length = 0;
    const result = await upload(['--dry-run', ...target(), dir, t.template]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal(
      `${path.join(dir, 'app-20240105T1300Z-web1.log.gz')} -> s3://${BUCKET}/${t.key('app', 'app-20240105T1300Z-web1.log.gz')}\n`,
    );
    expect(servers.s3.requests).to.deep.equal([]);
    expect(servers.imds.requests).to.deep.equal([]);
    expect(await ls(dir)).to.deep.equal([
      '.partial.tmp',
      '.uploaded',
      'app-20240105T1300Z-web1.log.gz',
      'db-20240105T1400Z.log.gz',
    ]);
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(['db-20240105T1400Z.log.gz']);
  });

  it('--delete-uploaded-after removes archives and markers confirmed longer ago than that, and nothing else', async () => {
    const dir = await archive({ 'app-20240105T1300Z.log.gz': 'old\n', 'app-20240105T1400Z.log.gz': 'recent\n' });
    const t = template();
    expect((await upload(['--once', ...target(), dir, t.template])).code).to.equal(0);
    await fs.writeFile(path.join(dir, 'app-20240105T1500Z.log.gz'), 'new\n');
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000);
    await fs.utimes(path.join(dir, '.uploaded', 'app-20240105T1300Z.log.gz'), eightDaysAgo, eightDaysAgo);
    const result = await upload(['--once', '--delete-uploaded-after', '7d', ...target(), dir, t.template]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr).to.match(/removed uploaded archive file=app-20240105T1300Z.log.gz/);
    expect(await ls(dir)).to.deep.equal(['.uploaded', 'app-20240105T1400Z.log.gz', 'app-20240105T1500Z.log.gz']);
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([
      'app-20240105T1400Z.log.gz',
      'app-20240105T1500Z.log.gz',
    ]);
    expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1300Z.log.gz'))).toString()).to.equal('old\n');
  });

  it('--delete-uploaded-after takes a number of seconds as --max-age does (7200: two hours)', async () => {
    const dir = await archive({ 'app-20240105T1300Z.log.gz': 'old\n', 'app-20240105T1400Z.log.gz': 'recent\n' });
    await fs.mkdir(path.join(dir, '.uploaded'));
    for (const [name, hoursAgo] of [
      ['app-20240105T1300Z.log.gz', 3],
      ['app-20240105T1400Z.log.gz', 1],
    ] as const) {
      const marker = path.join(dir, '.uploaded', name);
      await fs.writeFile(marker, '');
      const then = new Date(Date.now() - hoursAgo * 3_600_000);
      await fs.utimes(marker, then, then);
    }
    const result = await upload([
      '--dry-run',
      '--delete-uploaded-after',
      '7200',
      ...target(),
      dir,
      template().template,
    ]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stderr.match(/would remove uploaded archive file=\S+/g)).to.deep.equal([
      'would remove uploaded archive file=app-20240105T1300Z.log.gz',
    ]);
  });

  describe('configuration errors: exit 2, one line on stderr, no stack trace', () => {
    function expectOneLine(stderr: string) {
      expect(stderr.trim().split('\n'), stderr).to.have.length(1);
      expectCleanStderr(stderr);
    }

    const badTemplates: Array<[string, RegExp]> = [
      ['s3://logs/{prefix}/{year}/{month}{/{day}/{filename}', /unbalanced '\{' at character 34/],
      ['s3://logs/{prefix}/{year}/{month}/{day}/{file}', /unknown field '\{file\}'/],
      ['s3://logs/{prefix}/{year}/{month}/{day}', /missing mandatory field \{filename\}/],
      ['s3://logs/{prefix}/{year}/{month}/{day}/{filename}}', /unbalanced '\}'/],
      ['s3:///{prefix}/{year}/{month}/{day}/{filename}', /bucket name is empty/],
      ['https://logs/{prefix}/{year}/{month}/{day}/{filename}', /scheme must be 's3:\/\/'/],
    ];
    for (const [bad, message] of badTemplates) {
      it(`rejects the template ${bad} before any network call`, async () => {
        const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x' });
        servers.s3.requests.length = 0;
        servers.imds.requests.length = 0;
        const result = await upload(['--once', ...target(), dir, bad]);
        expect(result.code).to.equal(2);
        expect(result.stderr).to.match(message);
        expectOneLine(result.stderr);
        expect(servers.s3.requests).to.deep.equal([]);
        expect(servers.imds.requests).to.deep.equal([]);
        expect(await ls(dir)).to.deep.equal(['app-20240105T1300Z.log.gz']);
      });
    }

    const badSizes: Array<[string[], RegExp]> = [
      [['--part-size', '4M'], /--part-size must be from 5M to 5G/],
      [['--multipart-threshold', '6G'], /--multipart-threshold must be from 5M .* to 5G/],
    ];
    for (const [flags, message] of badSizes) {
      it(`rejects ${flags.join(' ')} before any network call`, async () => {
        const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x' });
        servers.s3.requests.length = 0;
        const result = await upload(['--once', ...flags, ...target(), dir, template().template]);
        expect(result.code).to.equal(2);
        expect(result.stderr).to.match(message);
        expectOneLine(result.stderr);
        expect(servers.s3.requests).to.deep.equal([]);
      });
    }

    it('rejects an ARCHIVE_DIR not named archive', async () => {
      const dir = await tmpDir();
      const result = await upload(['--once', ...target(), dir, template().template]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/ARCHIVE_DIR must be the folder named 'archive'/);
      expectOneLine(result.stderr);
    });

    if (kind === 'rgw') {
      const refusedSettings: Array<[string[], RegExp]> = [
        [
          ['--storage-class', 'STANDARD_IA'],
          /^\S+ logjam-upload CRITICAL the store refused --storage-class STANDARD_IA \((InvalidArgument|InvalidRequest|InvalidStorageClass)\)/,
        ],
        [
          ['--sse', 'AES256'],
          /^\S+ logjam-upload CRITICAL the store refused --sse AES256 \((InvalidArgument|InvalidRequest)\)/,
        ],
      ];
      for (const [flags, message] of refusedSettings) {
        it(`a store that refuses ${flags.join(' ')} ends the run before any upload: exit 2, one line naming it and the store's code, nothing marked`, async () => {
          const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x', 'app-20240105T1400Z.log.gz': 'y' });
          const t = template();
          const result = await upload(['--once', ...flags, ...target(), dir, t.template]);
          expect(result.code, result.stderr).to.equal(2);
          expect(result.stderr).to.match(message);
          expectOneLine(result.stderr);
          // The run made .uploaded/ (the bucket itself passed its check); no marker is in it.
          expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([]);
          expect(await servers.s3.keys(BUCKET, t.key('app', 'app-20240105T1300Z.log.gz').split('/')[0])).to.deep.equal(
            [],
          );
        });
      }

      it("another owner's bucket: exit 2 with its one line, and nothing before it", async () => {
        const other = testClient(rgwEndpoint()!, RGW_OTHER);
        try {
          await other
            .send(new CreateBucketCommand({ Bucket: 'logjam-other-owner' }))
            .catch((error: { name?: string }) => {
              if (error.name !== 'BucketAlreadyOwnedByYou') throw error;
            });
          const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x' });
          const result = await upload([
            '--once',
            ...target(),
            dir,
            's3://logjam-other-owner/{prefix}/{year}/{month}/{day}/{filename}',
          ]);
          expect(result.code, result.stderr).to.equal(2);
          expect(result.stderr).to.match(
            /^\S+ logjam-upload CRITICAL cannot write to bucket 'logjam-other-owner': AccessDenied/,
          );
          expectOneLine(result.stderr);
          // HeadBucket was refused, not failed: the run made .uploaded/ and went on; no marker is in it.
          expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([]);
        } finally {
          other.destroy();
        }
      });
    }

    it('names a missing bucket', async () => {
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x' });
      const result = await upload([
        '--once',
        ...target(),
        dir,
        's3://no-such-bucket/{prefix}/{year}/{month}/{day}/{filename}',
      ]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(/bucket 'no-such-bucket' does not exist/);
      expectOneLine(result.stderr);
      expect(await exists(path.join(dir, '.uploaded'))).to.equal(false);
    });

    // s3rver does not verify SigV4 signatures, so a wrong secret key is tested through the proxy below.
    const refused: Array<[string, { accessKeyId: string; secretAccessKey: string }, string]> = [
      ['an unknown access key', { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'nope' }, 'InvalidAccessKeyId'],
    ];
    for (const [what, credentials, code] of refused) {
      it(`says the credentials were refused: ${what}`, async () => {
        const wrong = await startFakeImds(credentials);
        try {
          const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x' });
          const result = await upload(['--once', ...target(), dir, template().template], {
            imdsEndpoint: wrong.endpoint,
          });
          expect(result.code).to.equal(2);
          expect(result.stderr).to.include(`access to bucket 'logs' refused: the credentials are not valid (${code})`);
          expectOneLine(result.stderr);
          expect(wrong.count('/latest/meta-data/iam/security-credentials/')).to.be.greaterThan(0);
          expect(await exists(path.join(dir, '.uploaded'))).to.equal(false);
        } finally {
          await wrong.close();
        }
      });
    }

    it('lists where it looked when there are no credentials anywhere, quickly', async () => {
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x' });
      servers.s3.requests.length = 0;
      const result = await runBin('logjam-upload', ['--once', ...target(), dir, template().template], {
        cleanEnv: true,
        env: imdsEnv(await closedEndpoint(), home),
        // Off EC2 the metadata lookups time out in about a second each; this bound is generous.
        timeoutMs: 20_000,
      });
      expect(result.code).to.equal(2);
      expect(result.stderr).to.match(
        /no AWS credentials found; looked in: environment \(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY\), profile 'default' in .*no-such-aws-credentials.*EC2 instance metadata \(http:\/\/127\.0\.0\.1:\d+\)/,
      );
      expectOneLine(result.stderr);
      expect(servers.s3.requests).to.deep.equal([]);
    });
  });

  describe('through a fault-injecting proxy', () => {
    let proxy: FaultProxy | undefined;
    afterEach(async () => {
      await proxy?.close();
      proxy = undefined;
    });
    const via = (p: FaultProxy, mode?: 'auto') => [
      '--endpoint-url',
      p.endpoint,
      '--force-path-style',
      ...(mode ? ['--conditional-writes', mode] : honoured(p.playsConditionalWrites)),
    ];

    it('without s3:ListBucket / s3:GetObject (every HEAD 403): falls back to a conditional PUT, and still never overwrites', async () => {
      // What S3 answers a role that may only PutObject: HEAD 403 (no body), GET AccessDenied.
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        conditionalWrites: servers.s3.playConditionalWrites,
        rule: (req) =>
          req.method === 'HEAD'
            ? { status: 403 }
            : req.method === 'GET'
              ? { status: 403, body: s3ErrorXml('AccessDenied', 'Access Denied') }
              : 'pass',
      });
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'new one\n', 'app-20240105T1400Z.log.gz': 'ours\n' });
      const t = template();
      await servers.s3.put(BUCKET, t.key('app', 'app-20240105T1400Z.log.gz'), 'theirs\n');
      const result = await upload(['--once', ...via(proxy), dir, t.template]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.match(/WARN HeadBucket refused \(no s3:ListBucket\?\)/);
      expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1300Z.log.gz'))).toString()).to.equal(
        'new one\n',
      );
      // The taken key answered 412 to the conditional PUT; unable to compare, the file went beside it.
      expect(proxy.requests.some((r) => r.status === 412)).to.equal(true);
      expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1400Z.log.gz'))).toString()).to.equal(
        'theirs\n',
      );
      expect(
        (
          await servers.s3.download(BUCKET, t.key('app', 'app-logjam-upload-conflict-01-20240105T1400Z.log.gz'))
        ).toString(),
      ).to.equal('ours\n');
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([
        'app-20240105T1300Z.log.gz',
        'app-20240105T1400Z.log.gz',
      ]);
    });

    it('a lost response to the PUT is an unknown, not a failure: the object that landed is recognised, not uploaded twice', async () => {
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        conditionalWrites: servers.s3.playConditionalWrites,
        rule: (req, seen) =>
          req.method === 'PUT' && objectOf(req.url ?? '') && !isProbeKey(req.url ?? '') && seen === 0
            ? 'drop-response'
            : 'pass',
      });
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'landed\n' });
      const t = template();
      const result = await upload(['--once', ...via(proxy), dir, t.template]);
      expect(result.code, result.stderr).to.equal(0);
      expect(proxy.requests.filter((r) => r.action === 'drop-response')).to.have.length(1);
      expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1300Z.log.gz'))).toString()).to.equal(
        'landed\n',
      );
      expect(await servers.s3.keys(BUCKET)).not.to.include(
        t.key('app', 'app-logjam-upload-conflict-01-20240105T1300Z.log.gz'),
      );
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(['app-20240105T1300Z.log.gz']);
    });

    it("a lost response on every attempt of the PUT: once the SDK's retries are spent, put()'s own HEAD finds the object landed", async () => {
      // Without conditional writes at the proxy, each attempt is stored (the same bytes) and its answer lost:
      // no 412 settles it, only the HEAD after the SDK gives up.
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        rule: (req) =>
          req.method === 'PUT' && objectOf(req.url ?? '') && !isProbeKey(req.url ?? '') ? 'drop-response' : 'pass',
      });
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'landed every time\n' });
      const t = template();
      const result = await upload(['--once', ...via(proxy), dir, t.template]);
      expect(result.code, result.stderr).to.equal(0);
      const dropped = proxy.requests.filter((r) => r.action === 'drop-response');
      expect(dropped.length, 'every attempt lost its answer').to.be.greaterThan(1);
      expect(dropped.map((r) => r.attempt)).to.deep.equal(dropped.map((_, i) => i + 1));
      expect(result.stderr).to.include('the upload failed, but S3 has the object: it landed');
      const key = t.key('app', 'app-20240105T1300Z.log.gz');
      expect(await servers.s3.keys(BUCKET, `${key.split('/')[0]}/`), 'no conflict copy').to.deep.equal([key]);
      expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1300Z.log.gz'))).toString()).to.equal(
        'landed every time\n',
      );
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(['app-20240105T1300Z.log.gz']);
    });

    it('a file too big to hold in memory goes in one PUT streamed from disk, and the SDK retries it with a fresh stream after a 500', async () => {
      const body = patternedBytes(3 * 1024 * 1024 + 7, 2246822519);
      const name = 'big-20240105T1300Z.log.gz';
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        // The first PUT is answered 500 once the proxy has read its whole body: the stream sent is used up.
        rule: (req, seen) =>
          req.method === 'PUT' && objectOf(req.url ?? '') && !isProbeKey(req.url ?? '') && seen === 0
            ? { status: 500, body: s3ErrorXml('InternalError', 'We encountered an internal error. Please try again.') }
            : 'pass',
      });
      const dir = await archive({ [name]: body });
      const t = template();
      const result = await upload(['--once', ...via(proxy), dir, t.template]);
      expect(result.code, result.stderr).to.equal(0);
      const puts = proxy.requests.filter((r) => r.method === 'PUT' && objectOf(r.url) && !isProbeKey(r.url));
      expect(puts.map((r) => [r.action, r.attempt])).to.deep.equal([
        ['500', 1],
        ['pass', 2],
      ]);
      expect(puts.every((r) => !r.url.includes('uploadId='))).to.equal(true);
      // Its MD5 came from the digest worker, not the main thread's fallback.
      expect(result.stderr).not.to.match(/digest worker is unavailable/);
      expect((await servers.s3.download(BUCKET, t.key('big', name))).equals(body)).to.equal(true);
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([name]);
    });

    /** A file of three parts of PART bytes (the last one short), a part size that does not divide the 1 MiB reads. */
    const PART = 5 * 1024 * 1024 + 12_345;
    const multipartArgs = ['--multipart-threshold', '6M', '--part-size', String(PART)];
    const threeParts = () => patternedBytes(2 * PART + 777);
    /** The part number of a request of ours (the probe's one part, which verifies --conditional-writes yes, is no part of a file). */
    const partOf = (url: string) => (isProbeKey(url) ? 0 : Number(/[?&]partNumber=(\d+)/.exec(url)?.[1] ?? 0));

    it('a multipart upload streams each part from disk with the Content-MD5 of its own bytes, and the SDK retries a failed part with a fresh stream', async () => {
      const body = threeParts();
      const name = 'big-20240105T1300Z.log.gz';
      let failedOnce = false;
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        conditionalWrites: servers.s3.playConditionalWrites,
        // Part 2's first attempt is answered 500 once the proxy has read its whole body.
        rule: (req) => {
          if (req.method !== 'PUT' || partOf(req.url ?? '') !== 2 || failedOnce) return 'pass';
          failedOnce = true;
          return {
            status: 500,
            body: s3ErrorXml('InternalError', 'We encountered an internal error. Please try again.'),
          };
        },
      });
      const dir = await archive({ [name]: body });
      const t = template();
      servers.s3.requests.length = 0;
      const result = await upload(['--once', ...multipartArgs, ...via(proxy), dir, t.template]);
      expect(result.code, result.stderr).to.equal(0);
      expect(proxy.requests.filter((r) => partOf(r.url) === 2).map((r) => [r.action, r.attempt])).to.deep.equal([
        ['500', 1],
        ['pass', 2],
      ]);
      // What reached the store: three parts, each with the MD5 of its own slice of the file.
      const parts = servers.s3.requests
        .filter((r) => r.method === 'PUT' && partOf(r.url) > 0)
        .sort((a, b) => partOf(a.url) - partOf(b.url));
      const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
      expect(parts.map((r) => [partOf(r.url), r.headers['content-md5']])).to.deep.equal([
        [1, md5(body.subarray(0, PART))],
        [2, md5(body.subarray(PART, 2 * PART))],
        [3, md5(body.subarray(2 * PART))],
      ]);
      expect((await servers.s3.download(BUCKET, t.key('big', name))).equals(body)).to.equal(true);
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([name]);
    });

    it('a multipart upload that cannot finish is aborted after its parts settle: exit 1, no marker, nothing stored; the next run uploads it', async () => {
      const body = threeParts();
      const name = 'big-20240105T1300Z.log.gz';
      /** Part requests not yet answered when each abort arrived. */
      const inFlightAtAbort: number[] = [];
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        conditionalWrites: servers.s3.playConditionalWrites,
        rule: (req) => {
          if (req.method === 'DELETE' && (req.url ?? '').includes('uploadId=') && !isProbeKey(req.url ?? ''))
            inFlightAtAbort.push(proxy!.requests.filter((r) => partOf(r.url) > 0 && !r.done).length);
          // Part 2 is refused for good: no retry can cure a 400.
          return req.method === 'PUT' && partOf(req.url ?? '') === 2
            ? { status: 400, body: s3ErrorXml('InvalidArgument', 'Part refused by the test.') }
            : 'pass';
        },
      });
      const dir = await archive({ [name]: body });
      const t = template();
      const failed = await upload(['--once', ...multipartArgs, ...via(proxy), dir, t.template]);
      expect(failed.code, failed.stderr).to.equal(1);
      expect(failed.stderr).to.match(
        /ERROR upload failed; will retry on the next run file=big-20240105T1300Z\.log\.gz error="InvalidArgument/,
      );
      const aborts = proxy.requests.filter(
        (r) => r.method === 'DELETE' && r.url.includes('uploadId=') && !isProbeKey(r.url),
      );
      expect(aborts.map((r) => r.action)).to.deep.equal(['pass']);
      // The abort came once every part request had been answered, and no part was sent after it.
      expect(inFlightAtAbort).to.deep.equal([0]);
      const abortAt = proxy.requests.indexOf(aborts[0]!);
      expect(proxy.requests.slice(abortAt).filter((r) => partOf(r.url) > 0)).to.deep.equal([]);
      expect(await servers.s3.head(BUCKET, t.key('big', name))).to.equal(null);
      expect(await exists(path.join(dir, '.uploaded', name))).to.equal(false);

      const again = await upload(['--once', ...multipartArgs, ...target(), dir, t.template]);
      expect(again.code, again.stderr).to.equal(0);
      expect((await servers.s3.download(BUCKET, t.key('big', name))).equals(body)).to.equal(true);
    });

    it('as a service, SIGTERM during a multipart upload still aborts it at the store: exit 0, no marker, nothing stored', async () => {
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        rule: (req) => (req.method === 'PUT' && partOf(req.url ?? '') === 2 ? 'hang' : 'pass'),
      });
      const name = 'big-20240105T1300Z.log.gz';
      const dir = await archive({ [name]: threeParts() });
      const t = template();
      const child = startBin('logjam-upload', [...multipartArgs, ...via(proxy), dir, t.template], {
        cleanEnv: true,
        env: imdsEnv(servers.imds.endpoint, home),
      });
      try {
        await waitFor(() => proxy!.requests.some((r) => r.action === 'hang'), {
          timeoutMs: 20_000,
          what: 'part 2 in flight',
        });
        child.kill('SIGTERM');
        const result = await waitExit(child, 20_000);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stderr).to.match(/upload interrupted; no marker written file=big-20240105T1300Z\.log\.gz/);
        const aborts = proxy.requests.filter((r) => r.method === 'DELETE' && r.url.includes('uploadId='));
        expect(
          aborts.map((r) => r.action),
          result.stderr,
        ).to.deep.equal(['pass']);
        expect(await exists(path.join(dir, '.uploaded', name))).to.equal(false);
        expect(await servers.s3.head(BUCKET, t.key('big', name))).to.equal(null);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });

    // s3rver has no ListMultipartUploads (NotImplemented); RGW has, as S3.
    (kind === 'rgw' ? it : it.skip)(
      'the parts of a multipart upload killed by SIGKILL are aborted by the next run, which uploads the file afresh',
      async () => {
        proxy = await startFaultProxy({
          target: servers.s3.endpoint,
          rule: (req) => (req.method === 'PUT' && partOf(req.url ?? '') === 2 ? 'hang' : 'pass'),
        });
        const name = 'big-20240105T1300Z.log.gz';
        const body = threeParts();
        const dir = await archive({ [name]: body });
        const t = template();
        const key = t.key('big', name);
        const child = startBin('logjam-upload', ['--once', ...multipartArgs, ...via(proxy), dir, t.template], {
          cleanEnv: true,
          env: imdsEnv(servers.imds.endpoint, home),
        });
        try {
          await waitFor(() => proxy!.requests.some((r) => r.action === 'hang'), {
            timeoutMs: 20_000,
            what: 'part 2 in flight',
          });
        } finally {
          child.kill('SIGKILL');
          await waitExit(child, 20_000);
        }
        const unfinished = async () =>
          (
            (await servers.s3.client.send(new ListMultipartUploadsCommand({ Bucket: BUCKET, Prefix: key }))).Uploads ??
            []
          ).filter((u) => u.Key === key);
        expect(await unfinished()).to.have.length(1);

        const metrics = path.join(await tmpDir(), 'upload.prom');
        const again = await upload([
          '--once',
          '--metrics-file',
          metrics,
          ...multipartArgs,
          ...target(),
          dir,
          t.template,
        ]);
        expect(again.code, again.stderr).to.equal(0);
        expect(again.stderr.match(/INFO aborted an unfinished multipart upload of an earlier run/g)).to.have.length(1);
        expect(await fs.readFile(metrics, 'utf8')).to.match(/^logjam_upload_orphaned_uploads_aborted_total 1$/m);
        expect(await unfinished()).to.deep.equal([]);
        expect((await servers.s3.download(BUCKET, key)).equals(body)).to.equal(true);
      },
    );

    it('as a service, SIGTERM aborts an upload in flight: exit 0, no marker, nothing stored', async () => {
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        rule: (req) =>
          req.method === 'PUT' && objectOf(req.url ?? '') && !isProbeKey(req.url ?? '') ? 'hang' : 'pass',
      });
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'in flight\n' });
      const t = template();
      const child = startBin('logjam-upload', [...via(proxy), dir, t.template], {
        cleanEnv: true,
        env: imdsEnv(servers.imds.endpoint, home),
      });
      try {
        await waitFor(() => proxy!.requests.some((r) => r.action === 'hang'), {
          timeoutMs: 20_000,
          what: 'the PUT in flight',
        });
        child.kill('SIGTERM');
        const result = await waitExit(child, 20_000);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stderr).to.match(/upload interrupted; no marker written file=app-20240105T1300Z.log.gz/);
        expect(await exists(path.join(dir, '.uploaded', 'app-20240105T1300Z.log.gz'))).to.equal(false);
        expect(await servers.s3.head(BUCKET, t.key('app', 'app-20240105T1300Z.log.gz'))).to.equal(null);
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });

    it('a store without conditional writes (501 to If-None-Match) is detected, and uploads go on with HEAD alone', async () => {
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        rule: (req) =>
          req.method === 'PUT' && req.headers['if-none-match']
            ? {
                status: 501,
                body: s3ErrorXml(
                  'NotImplemented',
                  'A header you provided implies functionality that is not implemented',
                ),
              }
            : 'pass',
      });
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'one\n', 'app-20240105T1400Z.log.gz': 'two\n' });
      const t = template();
      const result = await upload(['--once', '--jobs', '1', ...via(proxy, 'auto'), dir, t.template]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr.match(/does not support conditional writes/g)).to.have.length(1);
      expect(proxy.requests.filter((r) => r.action === '501')).to.have.length(1);
      expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1400Z.log.gz'))).toString()).to.equal(
        'two\n',
      );
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([
        'app-20240105T1300Z.log.gz',
        'app-20240105T1400Z.log.gz',
      ]);
    });

    describe('never overwrites, whether or not the store honours If-None-Match on Complete', () => {
      const keyOf = (url: string) => objectOf(url)?.key;
      const OURS = 'big-20240105T1300Z.log.gz';

      it('learns what the store honours once, with a probe it deletes, and sends small files in one PUT with no HEAD where the PUT is conditional', async () => {
        proxy = await startFaultProxy({
          target: servers.s3.endpoint,
          conditionalWrites: servers.s3.playConditionalWrites,
        });
        const dir = await archive({
          'app-20240105T1300Z.log.gz': 'one\n',
          'app-20240105T1400Z.log.gz': 'two\n',
          'app-20240105T1500Z.log.gz': 'three\n',
        });
        const t = template();
        const result = await upload(['--once', ...via(proxy, 'auto'), dir, t.template]);
        expect(result.code, result.stderr).to.equal(0);
        const probes = proxy.requests.filter((r) =>
          keyOf(r.url)?.startsWith(`${t.key('x', 'x-20240105T1300Z.log.gz').split('/')[0]}/.logjam-probe/`),
        );
        expect(probes.map((r) => r.method)).to.include.members(['PUT', 'POST', 'DELETE']);
        expect(
          proxy.requests.filter((r) => r.method === 'HEAD' && objectOf(r.url) && !probes.includes(r)),
        ).to.deep.equal([]);
        expect(await servers.s3.keys(BUCKET, t.key('x', 'x-20240105T1300Z.log.gz').split('/')[0])).to.have.length(3);
      });

      it('--conditional-writes no: no probe, and a HEAD before each PUT', async () => {
        proxy = await startFaultProxy({
          target: servers.s3.endpoint,
          conditionalWrites: servers.s3.playConditionalWrites,
        });
        const dir = await archive({ 'app-20240105T1300Z.log.gz': 'one\n', 'app-20240105T1400Z.log.gz': 'two\n' });
        const t = template();
        const result = await upload([
          '--once',
          '--conditional-writes',
          'no',
          '--endpoint-url',
          proxy.endpoint,
          '--force-path-style',
          dir,
          t.template,
        ]);
        expect(result.code, result.stderr).to.equal(0);
        expect(proxy.requests.filter((r) => keyOf(r.url)?.includes('.logjam-probe/'))).to.deep.equal([]);
        expect(proxy.requests.filter((r) => r.method === 'HEAD' && objectOf(r.url))).to.have.length(2);
      });

      it('an object written at the key while a multipart upload runs is not replaced: the file goes beside it', async () => {
        const t = template();
        const key = t.key('big', OURS);
        let injected = false;
        proxy = await startFaultProxy({
          target: servers.s3.endpoint,
          conditionalWrites: servers.s3.playConditionalWrites,
          // Another writer (no If-None-Match) puts its object as our last part goes out.
          gate: async (req) => {
            if (!injected && req.method === 'PUT' && partOf(req.url ?? '') === 3) {
              injected = true;
              await servers.s3.put(BUCKET, key, 'theirs, written during the upload\n');
            }
          },
        });
        const body = threeParts();
        const dir = await archive({ [OURS]: body });
        const result = await upload(['--once', ...multipartArgs, ...via(proxy, 'auto'), dir, t.template]);
        expect(result.code, result.stderr).to.equal(0);
        expect(injected).to.equal(true);
        expect((await servers.s3.download(BUCKET, key)).toString()).to.equal('theirs, written during the upload\n');
        expect(
          (
            await servers.s3.download(BUCKET, t.key('big', 'big-logjam-upload-conflict-01-20240105T1300Z.log.gz'))
          ).equals(body),
        ).to.equal(true);
        expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([OURS]);
      });

      it('without s3:GetObject (HEAD 403), a multipart upload does not replace an object already at its key', async () => {
        const t = template();
        const key = t.key('big', OURS);
        await servers.s3.put(BUCKET, key, 'theirs, there before\n');
        // RGW: a bucket policy that denies reads to the uploader; s3rver has none, so the proxy answers 403.
        const policy = {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Deny',
              Principal: { AWS: ['arn:aws:iam:::user/logjam'] },
              Action: ['s3:GetObject', 's3:ListBucket'],
              Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
            },
          ],
        };
        if (kind === 'rgw')
          await servers.s3.client.send(new PutBucketPolicyCommand({ Bucket: BUCKET, Policy: JSON.stringify(policy) }));
        proxy = await startFaultProxy({
          target: servers.s3.endpoint,
          conditionalWrites: servers.s3.playConditionalWrites,
          rule: (req) =>
            kind === 'rgw'
              ? 'pass'
              : req.method === 'HEAD'
                ? { status: 403 }
                : req.method === 'GET'
                  ? { status: 403, body: s3ErrorXml('AccessDenied', 'Access Denied') }
                  : 'pass',
        });
        const body = threeParts();
        const dir = await archive({ [OURS]: body });
        let result;
        try {
          result = await upload(['--once', ...multipartArgs, ...via(proxy, 'auto'), dir, t.template]);
        } finally {
          if (kind === 'rgw') await servers.s3.client.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
        }
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stderr).to.match(
          /the key is taken, and HEAD is refused \(no s3:GetObject\?\), so it cannot be compared; not overwriting it/,
        );
        expect(result.stderr).not.to.match(/a different object already holds this key/);
        expect((await servers.s3.download(BUCKET, key)).toString()).to.equal('theirs, there before\n');
        expect(
          (
            await servers.s3.download(BUCKET, t.key('big', 'big-logjam-upload-conflict-01-20240105T1300Z.log.gz'))
          ).equals(body),
        ).to.equal(true);
      });

      it('two hosts racing on one key with multipart uploads: neither replaces the other', async () => {
        const t = template();
        const key = t.key('big', OURS);
        // A barrier: nothing but HEAD reaches the key until both hosts have looked at it (and found it free).
        let heads = 0;
        let bothLooked!: () => void;
        const looked = new Promise<void>((resolve) => (bothLooked = resolve));
        proxy = await startFaultProxy({
          target: servers.s3.endpoint,
          conditionalWrites: servers.s3.playConditionalWrites,
          gate: async (req) => {
            if (keyOf(req.url ?? '') !== key) return;
            if (req.method === 'HEAD') {
              if (++heads === 2) bothLooked();
              return;
            }
            await looked;
          },
        });
        const hostA = patternedBytes(2 * PART + 11, 2654435761);
        const hostB = patternedBytes(2 * PART + 22, 2246822519);
        const dirA = await archive({ [OURS]: hostA });
        const dirB = await archive({ [OURS]: hostB });
        // The store's conditional writes given, not probed: the race is on the key, not in the probe folder.
        const [a, b] = await Promise.all([
          upload(['--once', ...multipartArgs, ...via(proxy), dirA, t.template]),
          upload(['--once', ...multipartArgs, ...via(proxy), dirB, t.template]),
        ]);
        expect([a.code, b.code], a.stderr + b.stderr).to.deep.equal([0, 0]);
        const stored = [
          await servers.s3.download(BUCKET, key),
          await servers.s3.download(BUCKET, t.key('big', 'big-logjam-upload-conflict-01-20240105T1300Z.log.gz')),
        ];
        const sizes = stored.map((bytes) => bytes.length).sort();
        expect(sizes).to.deep.equal([hostA.length, hostB.length]);
        expect(stored.some((bytes) => bytes.equals(hostA)) && stored.some((bytes) => bytes.equals(hostB))).to.equal(
          true,
        );
      });
    });

    it('a wrong secret key (SignatureDoesNotMatch) is a configuration error: exit 2, one line', async () => {
      const denied = {
        status: 403,
        body: s3ErrorXml(
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided.',
        ),
      };
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        rule: (req) => (req.method === 'HEAD' ? { status: 403 } : denied),
      });
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x' });
      const result = await upload(['--once', ...via(proxy), dir, template().template]);
      expect(result.code).to.equal(2);
      expect(result.stderr).to.include(
        "access to bucket 'logs' refused: the credentials are not valid (SignatureDoesNotMatch)",
      );
      expect(result.stderr.trim().split('\n')).to.have.length(1);
      expect(await exists(path.join(dir, '.uploaded'))).to.equal(false);
    });

    it('retries a 503 SlowDown with backoff and uploads', async () => {
      proxy = await startFaultProxy({
        target: servers.s3.endpoint,
        rule: (req, seen) =>
          req.method === 'PUT' && objectOf(req.url ?? '') && !isProbeKey(req.url ?? '') && seen < 2
            ? { status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') }
            : 'pass',
      });
      const dir = await archive({ 'app-20240105T1300Z.log.gz': 'eventually\n' });
      const t = template();
      const result = await upload(['--once', ...via(proxy), dir, t.template]);
      expect(result.code, result.stderr).to.equal(0);
      expect(proxy.requests.filter((r) => r.action === '503')).to.have.length(2);
      expect((await servers.s3.download(BUCKET, t.key('app', 'app-20240105T1300Z.log.gz'))).toString()).to.equal(
        'eventually\n',
      );
    });
  });

  it('--once leaves the archive folder to another running instance (lock held): exit 0, nothing uploaded, said at WARN and counted', async () => {
    const dir = await archive({ 'app-20240105T1300Z.log.gz': 'x' });
    const holder = await holdLock(path.join(dir, '.logjam-upload.lock'), 'logjam-upload');
    try {
      const metrics = path.join(await tmpDir(), 'upload.prom');
      const result = await upload(['--once', '--metrics-file', metrics, ...target(), dir, template().template]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.include(
        `WARN another logjam-upload (pid ${holder.pid}) is working on ${dir}; skipped it`,
      );
      expect(await exists(path.join(dir, '.uploaded'))).to.equal(false);
      const samples = await fs.readFile(metrics, 'utf8');
      expect(samples)
        .to.include('logjam_upload_skipped_locked_total 1\n')
        .and.include('logjam_upload_passes_total 0\n')
        .and.include('logjam_upload_backlog_files 1\n');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('as a service, uploads a new archive soon after it appears, and exits 0 on SIGTERM', async () => {
    const dir = await archive({ 'app-20240105T1300Z.log.gz': 'at start\n' });
    const t = template();
    // A long interval: only the file watcher can make the second upload happen in time.
    const child = startBin('logjam-upload', ['--interval', '3600', ...target(), dir, t.template], {
      cleanEnv: true,
      env: imdsEnv(servers.imds.endpoint, home),
    });
    try {
      await waitFor(() => exists(path.join(dir, '.uploaded', 'app-20240105T1300Z.log.gz')), {
        timeoutMs: 20_000,
        what: 'the first upload',
      });
      await waitFor(() => /pass done/.test(child.output().stderr), { what: 'the first pass' });
      // As logjam-compress does: write a temp file, then rename it into place.
      await fs.writeFile(path.join(dir, '.compress.tmp'), 'new archive\n');
      await fs.rename(path.join(dir, '.compress.tmp'), path.join(dir, 'app-20240105T1400Z.log.gz'));
      await waitFor(() => servers.s3.head(BUCKET, t.key('app', 'app-20240105T1400Z.log.gz')), {
        timeoutMs: 10_000,
        what: 'the new archive in S3',
      });
      await waitFor(() => exists(path.join(dir, '.uploaded', 'app-20240105T1400Z.log.gz')), { what: 'its marker' });
      child.kill('SIGTERM');
      const result = await waitExit(child, 20_000);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.equal('');
      expectCleanStderr(result.stderr);
      expect(await exists(path.join(dir, '.logjam-upload.lock'))).to.equal(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
