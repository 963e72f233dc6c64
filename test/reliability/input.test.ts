// Bad input: odd file names, symbolic links, FIFOs and directories named like
// log files, zero-byte logs, corrupt .gz files, templates that could render
// an odd key. The built binaries against real directories and s3rver.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createLogger, parseLogName } from '@logjam/core';
import { compressFile } from '../../packages/logjam-compress/src/compress.ts';
import { fieldValues, parseTemplate, renderKey } from '../../packages/logjam-upload/src/template.ts';
import { cleanupTmpDirs, exists, ls, runBin, tmpDir } from '../support/index.ts';
import { imdsEnv } from '../support/imds.ts';
import { useS3AndImds } from '../support/servers.ts';
import { gunzip, numbered, write } from './helpers.ts';

const BUCKET = 'logs';
const quiet = createLogger({ name: 'test', level: 'error', write: () => {} });

/** Settles with 'timeout' if `promise` has not settled after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms))),
  ]).finally(() => clearTimeout(timer));
}

describe('reliability: bad input', function () {
  this.timeout(60_000);
  const servers = useS3AndImds({ buckets: [BUCKET] });
  let home: string;
  let n = 0;

  before(async () => {
    home = await tmpDir('logjam-home-');
  });
  after(async () => {
    await cleanupTmpDirs();
  });

  const compress = (args: string[]) => runBin('logjam-compress', args, { timeoutMs: 30_000 });
  const upload = (dir: string, template: string) =>
    runBin('logjam-upload', ['--once', '--endpoint-url', servers.s3.endpoint, '--force-path-style', dir, template], {
      cleanEnv: true,
      env: imdsEnv(servers.imds.endpoint, home),
      timeoutMs: 30_000,
    });
  const tag = () => `in${++n}`;

  describe('file names', () => {
    it('compresses and uploads names with spaces, unicode and a 252-byte name, under keys inside the prefix', async () => {
      const dir = await tmpDir();
      const long = `${'l'.repeat(252 - '-20240101T0000Z.log'.length)}-20240101T0000Z.log`;
      expect(Buffer.byteLength(long)).to.equal(252); // + '.gz' = 255, the longest a name can be
      const names = [
        'web server-20240101T0000Z-i 1.log',
        'journal-ünïcødé-日本-20240101T0000Z-ŝ.log',
        'emoji🚀-2024-01-01T00:00Z.log',
        long,
      ];
      for (const [i, name] of names.entries()) await write(path.join(dir, name), numbered(10, `f${i}`));

      const c = await compress(['--once', dir]);
      expect(c.code, c.stderr).to.equal(0);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal(names.map((x) => `${x}.gz`).sort());
      for (const [i, name] of names.entries())
        expect((await gunzip(path.join(dir, 'archive', `${name}.gz`))).toString()).to.equal(numbered(10, `f${i}`));

      const t = tag();
      const template = `s3://${BUCKET}/${t}/{prefix}/{suffix}/{year}/{month}/{day}/{filename}`;
      // s3rver stores a key as a file named after it (plus a tag), so a 255-byte
      // name cannot land there (S3 takes 1024-byte keys): its key is checked with --dry-run.
      const dry = await runBin('logjam-upload', ['--dry-run', path.join(dir, 'archive'), template], {
        cleanEnv: true,
        env: imdsEnv(servers.imds.endpoint, home),
      });
      expect(dry.code, dry.stderr).to.equal(0);
      expect(dry.stdout).to.include(
        `${path.join(dir, 'archive', `${long}.gz`)} -> s3://${BUCKET}/${t}/${long.split('-')[0]}/2024/01/01/${long}.gz\n`,
      );
      await fs.rename(path.join(dir, 'archive', `${long}.gz`), path.join(dir, `${long}.gz`));
      names.pop();

      const u = await upload(path.join(dir, 'archive'), template);
      expect(u.code, u.stderr).to.equal(0);
      const keys = await servers.s3.keys(BUCKET);
      const expected = names.map((name) => {
        const log = parseLogName(`${name}.gz`)!;
        // No suffix: its folder is dropped, no '//'.
        return [t, log.prefix, log.suffix, log.year, log.month, log.day, log.name].filter(Boolean).join('/');
      });
      expect(keys.filter((k) => k.startsWith(`${t}/`))).to.deep.equal([...expected].sort());
      for (const key of expected) expect(key).not.to.match(/\/\/|^\/|(^|\/)\.\.?(\/|$)/);
      for (const [i, name] of names.entries()) {
        const key = expected[names.indexOf(name)]!;
        expect(zlib.gunzipSync(await servers.s3.download(BUCKET, key)).toString()).to.equal(numbered(10, `f${i}`));
      }
    });

    it('keeps a name too long for its archive name, says why, and archives the others (exit 1)', async () => {
      const dir = await tmpDir();
      const long = `${'l'.repeat(253 - '-20240101T0000Z.log'.length)}-20240101T0000Z.log`; // + '.gz' = 256 bytes
      await write(path.join(dir, long), 'long\n');
      await write(path.join(dir, 'ok-20240101T0000Z.log'), 'ok\n');
      const c = await compress(['--once', dir]);
      expect(c.code, c.stderr).to.equal(1);
      expect(c.stderr).to.include(`failed to compress ${path.join(dir, long)}: ENAMETOOLONG`);
      expect(c.stderr).to.include('give');
      expect(await fs.readFile(path.join(dir, long), 'utf8')).to.equal('long\n');
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal(['ok-20240101T0000Z.log.gz']);
    });

    it('leaves alone names that almost match the grammar, newlines, dot tricks, hidden, backup and temporary files', async () => {
      const dir = await tmpDir();
      const untouched = [
        'app-20240101T0000Z-i\n1.log', // newline in the suffix
        'app\n-20240101T0000Z.log', // newline in the prefix
        'app-20240101T0000Z.lo\ng', // newline in the extension
        'app-20240101T0000.log', // no Z
        'app-20240101T2400Z.log', // hour 24
        'app-20240101T0060Z.log', // minute 60
        'app-20240229T0000Z', // no extension
        'app-20240101T0000Z-.log', // empty suffix
        'app_20240101T0000Z.log', // no dash before the stamp
        'app-2024-0101T0000Z.log', // half-dashed date is allowed... but see below
        '..-20240101T0000Z.log', // dot tricks: hidden names
        '.app-20240101T0000Z.log.swp', // an editor's swap file
        'app-20240101T0000Z.log~', // a backup
        'app-20240101T0000Z.log.tmp', // a temporary file
        '-20240101T0000Z.log', // no prefix
      ].filter((name) => parseLogName(name) === null);
      expect(untouched.length, 'every name above but the half-dashed one is refused').to.equal(14);
      for (const name of untouched) await write(path.join(dir, name), `${JSON.stringify(name)}\n`);
      const c = await compress(['--once', '--min-age', '0', dir]);
      expect(c.code, c.stderr).to.equal(0);
      expect(await ls(dir)).to.deep.equal([...untouched, 'archive'].sort());
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
      for (const name of untouched)
        expect(await fs.readFile(path.join(dir, name), 'utf8')).to.equal(`${JSON.stringify(name)}\n`);
    });

    it('renders no key outside the prefix: empty fields drop their folder, a ".." folder fails that file only', async () => {
      const dir = path.join(await tmpDir(), 'archive');
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'app-20240105T1300Z.log.gz'), 'no suffix\n');
      await fs.writeFile(path.join(dir, 'app-20240105T1300Z..'), 'dot-dot extension\n'); // {extension} is '..'
      const t = tag();
      const u = await upload(dir, `s3://${BUCKET}/${t}/{prefix}/{suffix}/{extension}/{year}/{month}/{day}/{filename}`);
      expect(u.code, u.stderr).to.equal(1);
      expect(u.stderr).to.match(
        /upload failed; will retry on the next run file=app-20240105T1300Z\.\. .*would hold a '\.' or '\.\.' folder/,
      );
      expect((await servers.s3.keys(BUCKET)).filter((k) => k.startsWith(`${t}/`))).to.deep.equal([
        `${t}/app/.log.gz/2024/01/05/app-20240105T1300Z.log.gz`,
      ]);
      expect(await servers.s3.keys(BUCKET)).not.to.satisfy((keys: string[]) =>
        keys.some((k) => /(^|\/)\.\.(\/|$)/.test(k)),
      );
    });

    it('refuses templates whose key starts with "/", holds "//" or a ".." folder (exit 2)', async () => {
      for (const bad of [
        's3://logs//{prefix}/{year}/{month}/{day}/{filename}',
        's3://logs/a//{prefix}/{year}/{month}/{day}/{filename}',
        's3://logs/../{prefix}/{year}/{month}/{day}/{filename}',
        's3://logs/{prefix}/./{year}/{month}/{day}/{filename}',
        's3://logs/{prefix}/{year}/{month}/{day}/{filename}/',
      ]) {
        expect(() => parseTemplate(bad), bad).to.throw(/bad URI template/);
      }
      const dir = path.join(await tmpDir(), 'archive');
      await fs.mkdir(dir);
      const u = await upload(dir, 's3://logs/x/../{prefix}/{year}/{month}/{day}/{filename}');
      expect(u.code).to.equal(2);
      expect(u.stderr).to.match(/cannot hold a '\.' or '\.\.' folder/);
      // And a field can never smuggle a '/' in (the host name comes from the system).
      const log = parseLogName('app-20240105T1300Z.log.gz')!;
      expect(() =>
        renderKey(
          parseTemplate('s3://logs/{hostname}/{prefix}/{year}/{month}/{day}/{filename}'),
          fieldValues(log, 'a/b'),
        ),
      ).to.throw(/renders a '\/'/);
    });
  });

  describe('symbolic links, FIFOs and directories', () => {
    it('logjam-compress never opens a FIFO or follows a symbolic link named like a closed log, nor touches such a directory', async () => {
      const dir = await tmpDir();
      const outside = await tmpDir();
      await write(path.join(outside, 'target'), 'not mine\n');
      execFileSync('mkfifo', [path.join(dir, 'fifo-20240101T0000Z.log')]);
      await fs.symlink(path.join(outside, 'target'), path.join(dir, 'link-20240101T0000Z.log'));
      await fs.mkdir(path.join(dir, 'dir-20240101T0000Z.log'));
      await write(path.join(dir, 'real-20240101T0000Z.log'), 'real\n');
      const c = await compress(['--once', '--min-age', '0', dir]); // a hang fails here, after 30 s
      expect(c.code, c.stderr).to.equal(0);
      expect(await ls(dir)).to.deep.equal([
        'archive',
        'dir-20240101T0000Z.log',
        'fifo-20240101T0000Z.log',
        'link-20240101T0000Z.log',
      ]);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal(['real-20240101T0000Z.log.gz']);
      expect(await fs.readFile(path.join(outside, 'target'), 'utf8')).to.equal('not mine\n');
    });

    it("a FIFO put in a log file's place after the scan is refused at once, not waited on", async () => {
      const dir = await tmpDir();
      await fs.mkdir(path.join(dir, 'archive'));
      execFileSync('mkfifo', [path.join(dir, 'app-20240101T0000Z.log')]);
      const outcome = await within(
        compressFile(dir, 'app-20240101T0000Z.log', { level: 6, verify: true, log: quiet }).catch(
          (error: Error) => error,
        ),
        5_000,
      );
      expect(outcome).to.be.instanceOf(Error);
      expect((outcome as Error).message).to.match(/is not a regular file/);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
    });

    it('logjam-upload neither follows a symbolic link nor opens a FIFO named like an archive: both fail (exit 1), the rest is uploaded', async () => {
      const dir = path.join(await tmpDir(), 'archive');
      await fs.mkdir(dir);
      const outside = await tmpDir();
      await fs.writeFile(path.join(outside, 'secret'), 'a secret the user can read\n');
      await fs.symlink(path.join(outside, 'secret'), path.join(dir, 'link-20240105T1300Z.log.gz'));
      execFileSync('mkfifo', [path.join(dir, 'fifo-20240105T1300Z.log.gz')]);
      await fs.writeFile(path.join(dir, 'real-20240105T1300Z.log.gz'), 'real\n');
      const t = tag();
      const u = await upload(dir, `s3://${BUCKET}/${t}/{prefix}/{year}/{month}/{day}/{filename}`);
      expect(u.code, u.stderr).to.equal(1);
      expect(u.stderr).to.match(
        /link-20240105T1300Z\.log\.gz is a symbolic link; logjam-upload uploads only regular files/,
      );
      expect(u.stderr).to.match(/fifo-20240105T1300Z\.log\.gz is not a regular file/);
      expect((await servers.s3.keys(BUCKET)).filter((k) => k.startsWith(`${t}/`))).to.deep.equal([
        `${t}/real/2024/01/05/real-20240105T1300Z.log.gz`,
      ]);
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(['real-20240105T1300Z.log.gz']);
    });
  });

  describe('empty and corrupt files', () => {
    it('archives a zero-byte log as a valid empty gzip, and uploads it', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'empty-20240101T0000Z.log'), '');
      const c = await compress(['--once', dir]);
      expect(c.code, c.stderr).to.equal(0);
      const gz = await fs.readFile(path.join(dir, 'archive', 'empty-20240101T0000Z.log.gz'));
      expect(gz.length).to.be.greaterThan(0);
      expect(zlib.gunzipSync(gz).length).to.equal(0);
      expect(await exists(path.join(dir, 'empty-20240101T0000Z.log'))).to.equal(false);
      const t = tag();
      const u = await upload(path.join(dir, 'archive'), `s3://${BUCKET}/${t}/{prefix}/{year}/{month}/{day}/{filename}`);
      expect(u.code, u.stderr).to.equal(0);
      expect(await servers.s3.download(BUCKET, `${t}/empty/2024/01/01/empty-20240101T0000Z.log.gz`)).to.deep.equal(gz);
    });

    it("uploads a corrupt .gz it did not make byte for byte, as it is (verifying is logjam-compress's job)", async () => {
      const dir = path.join(await tmpDir(), 'archive');
      await fs.mkdir(dir);
      const good = zlib.gzipSync('some lines\n');
      const truncated = good.subarray(0, good.length - 6);
      const garbage = Buffer.from('this is not gzip at all\n');
      await fs.writeFile(path.join(dir, 'trunc-20240105T1300Z.log.gz'), truncated);
      await fs.writeFile(path.join(dir, 'garbage-20240105T1300Z.log.gz'), garbage);
      const t = tag();
      const u = await upload(dir, `s3://${BUCKET}/${t}/{prefix}/{year}/{month}/{day}/{filename}`);
      expect(u.code, u.stderr).to.equal(0);
      expect(await servers.s3.download(BUCKET, `${t}/trunc/2024/01/05/trunc-20240105T1300Z.log.gz`)).to.deep.equal(
        truncated,
      );
      expect(await servers.s3.download(BUCKET, `${t}/garbage/2024/01/05/garbage-20240105T1300Z.log.gz`)).to.deep.equal(
        garbage,
      );
    });

    it('logjam-compress never replaces a corrupt archive in its way: the log goes to a duplicate-timestamp name', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'archive', 'app-20240101T0000Z.log.gz'), 'corrupt, not gzip\n');
      await write(path.join(dir, 'app-20240101T0000Z.log'), numbered(50));
      const c = await compress(['--once', dir]);
      expect(c.code, c.stderr).to.equal(0);
      expect(await fs.readFile(path.join(dir, 'archive', 'app-20240101T0000Z.log.gz'), 'utf8')).to.equal(
        'corrupt, not gzip\n',
      );
      const dup = path.join(dir, 'archive', 'app-logjam-compress-duplicate-timestamp-20240101T0000Z.log.gz');
      expect((await gunzip(dup)).toString()).to.equal(numbered(50));
    });
  });
});
