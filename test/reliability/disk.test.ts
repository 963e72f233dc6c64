// Faults from the disk: a full archive/ file system, a file truncated or
// removed by its writer while it is being compressed, files and folders this
// user may not read or write. The built binaries, real file systems.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@logjam/core';
import { compressFile } from '../../packages/logjam-compress/src/compress.ts';
import {
  binaries,
  cleanupTmpDirs,
  exists,
  ls,
  runBin,
  startBin,
  tmpDir,
  waitExit,
  type BinaryName,
  type RunResult,
} from '../support/index.ts';
import { imdsEnv } from '../support/imds.ts';
import { useS3AndImds } from '../support/servers.ts';
import { hasStrace, NO_STRACE, startStopped } from '../support/strace.ts';
import {
  AS_NOBODY,
  canDropPrivileges,
  gunzip,
  mountTmpfs,
  nobodyIds,
  numbered,
  OLD,
  remountTmpfs,
  umount,
  write,
} from './helpers.ts';

/** Runs a binary as nobody:nogroup (root drops its privileges with setpriv). */
function runAsNobody(
  name: BinaryName,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(AS_NOBODY[0]!, [...AS_NOBODY.slice(1), process.execPath, binaries[name], ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`still running after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A temp dir that nobody can reach: mkdtemp makes it 0700 and root's. */
async function openTmpDir(): Promise<string> {
  const dir = await tmpDir('logjam-perm-');
  await fs.chmod(dir, 0o755);
  return dir;
}

const quiet = createLogger({ name: 'test', level: 'error', write: () => {} });

describe('reliability: faults from the disk', function () {
  this.timeout(120_000);
  const mounts: string[] = [];
  const children: Array<ReturnType<typeof startBin>> = [];

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await waitExit(child).catch(() => {});
      }
    }
    for (const dir of mounts.splice(0)) umount(dir);
    await cleanupTmpDirs();
  });

  describe('disk full (ENOSPC) while compressing', () => {
    it('keeps the source, removes the partial archive, reports the path, and succeeds once space returns', async function () {
      const dir = await tmpDir();
      const archive = path.join(dir, 'archive');
      await fs.mkdir(archive);
      // archive/ on its own small tmpfs: room for the small file's archive, not for the big one's.
      if (!mountTmpfs(archive, '256k')) return this.skip(); // not root, or mount not permitted: see docs/reliability.md
      mounts.push(archive);
      const big = 'big-20240101T0000Z.log';
      const small = 'small-20240101T0000Z.log';
      const bigContent = randomBytes(1024 * 1024); // incompressible: its archive needs > 1 MiB
      await write(path.join(dir, big), bigContent);
      await write(path.join(dir, small), numbered(100));

      const full = await runBin('logjam-compress', ['--once', '--jobs', '1', dir]);
      expect(full.code, full.stderr).to.equal(1);
      expect(full.stderr).to.include(`failed to compress ${path.join(dir, big)}: ENOSPC`);
      expect(full.stderr).to.include(`no space left for ${archive}`);
      expect(await fs.readFile(path.join(dir, big)), 'the source stays, whole').to.deep.equal(bigContent);
      expect(await ls(archive), 'no partial archive, no temporary file').to.deep.equal([`${small}.gz`]);
      expect((await gunzip(path.join(archive, `${small}.gz`))).toString()).to.equal(numbered(100));

      remountTmpfs(archive, '4m');
      const again = await runBin('logjam-compress', ['--once', '--jobs', '1', dir]);
      expect(again.code, again.stderr).to.equal(0);
      expect(await exists(path.join(dir, big))).to.equal(false);
      expect(await gunzip(path.join(archive, `${big}.gz`))).to.deep.equal(bigContent);
      expect(await ls(archive)).to.deep.equal([`${big}.gz`, `${small}.gz`]);
    });
  });

  describe('a file truncated (copytruncate) or removed by its writer while being compressed', () => {
    it('truncated during the gzip: the torn archive is discarded, the source kept with a warning, and archived whole later', async function () {
      if (!hasStrace) {
        console.log(`      ${NO_STRACE}`);
        return this.skip();
      }
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      const source = path.join(dir, name);
      const chunk = Buffer.from(numbered(20_000));
      await write(source, chunk);
      await fs.appendFile(source, numbered(20_000, 'more'));
      await fs.utimes(source, OLD, OLD);
      // Stopped once its archive's data is written, before it is fsynced, verified and published.
      const { child, resume } = await startStopped('logjam-compress', ['--once', '--jobs', '1', dir], {
        syscall: 'pwrite64',
        n: 1,
      });
      children.push(child);
      // What logrotate's copytruncate does once it has copied the file.
      await fs.truncate(source, chunk.length);
      resume();
      const result = await waitExit(child);

      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.match(/WARN .*changed while being compressed; kept it/);
      expect((await fs.stat(source)).size, 'the source is kept, as truncated').to.equal(chunk.length);
      expect(await ls(path.join(dir, 'archive')), 'no archive of the torn file, no temporary file').to.deep.equal([]);

      // The next pass archives what the file now holds.
      await fs.utimes(source, OLD, OLD);
      const next = await runBin('logjam-compress', ['--once', dir]);
      expect(next.code, next.stderr).to.equal(0);
      expect(await gunzip(path.join(dir, 'archive', `${name}.gz`))).to.deep.equal(chunk);
      expect(await exists(source)).to.equal(false);
    });

    async function oneFile(): Promise<{ dir: string; source: string }> {
      const dir = await tmpDir();
      await fs.mkdir(path.join(dir, 'archive'));
      const source = path.join(dir, 'app-20240101T0000Z.log');
      await write(source, numbered(5000));
      return { dir, source };
    }

    it('truncated after the gzip, before publishing: nothing is published, the source is kept', async () => {
      const { dir, source } = await oneFile();
      const outcome = await compressFile(dir, path.basename(source), {
        level: 6,
        verify: true,
        log: quiet,
        beforeVerify: async () => fs.truncate(source, 100),
      });
      expect(outcome.kind).to.equal('changed');
      expect((await fs.stat(source)).size).to.equal(100);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
    });

    it('removed by its writer while being compressed: nothing is published, no temporary file is left', async () => {
      const { dir, source } = await oneFile();
      const outcome = await compressFile(dir, path.basename(source), {
        level: 6,
        verify: true,
        log: quiet,
        beforeVerify: async () => fs.unlink(source),
      });
      expect(outcome).to.deep.equal({ kind: 'changed', detail: 'the file was replaced or removed' });
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
    });

    it('replaced by a new file of the same name while being compressed: the new file is kept, untouched', async () => {
      const { dir, source } = await oneFile();
      const replace = async () => {
        await fs.rename(source, `${source}.old`);
        await fs.writeFile(source, 'the new file\n');
      };
      const outcome = await compressFile(dir, path.basename(source), {
        level: 6,
        verify: true,
        log: quiet,
        beforeVerify: replace,
      });
      expect(outcome.kind).to.equal('changed');
      expect(await fs.readFile(source, 'utf8')).to.equal('the new file\n');
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
    });
  });

  describe('permissions (run as nobody)', () => {
    before(function () {
      if (!canDropPrivileges()) this.skip(); // needs root and setpriv: see docs/reliability.md
    });
    const { uid, gid } = canDropPrivileges() ? nobodyIds() : { uid: -1, gid: -1 };

    it('logjam-compress: an unreadable file fails with its path and the fix, the others are archived, exit 1', async () => {
      const dir = path.join(await openTmpDir(), 'logs');
      await fs.mkdir(dir);
      const unreadable = path.join(dir, 'secret-20240101T0000Z.log');
      await write(unreadable, 'private\n');
      await write(path.join(dir, 'app-20240101T0000Z.log'), numbered(10));
      for (const f of [dir, unreadable, path.join(dir, 'app-20240101T0000Z.log')]) await fs.chown(f, uid, gid);
      await fs.chmod(unreadable, 0o000);

      const result = await runAsNobody('logjam-compress', ['--once', dir]);
      expect(result.code, result.stderr).to.equal(1);
      expect(result.stderr).to.include(`failed to compress ${unreadable}: EACCES`);
      expect(result.stderr).to.include(
        `${unreadable} is not readable by this user (uid ${uid}): run logjam-compress as the user that writes the logs`,
      );
      expect(await exists(unreadable)).to.equal(true);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal(['app-20240101T0000Z.log.gz']);
    });

    it('logjam-compress: an unwritable archive/ fails its files with the path and the fix, other directories are done, exit 1', async () => {
      const root = await openTmpDir();
      const [blocked, fine] = [path.join(root, 'blocked'), path.join(root, 'fine')];
      for (const dir of [blocked, fine]) {
        await write(path.join(dir, 'app-20240101T0000Z.log'), numbered(10));
        await fs.chown(dir, uid, gid);
        await fs.chown(path.join(dir, 'app-20240101T0000Z.log'), uid, gid);
      }
      await fs.mkdir(path.join(blocked, 'archive'), { mode: 0o755 }); // root's: nobody cannot write in it

      const result = await runAsNobody('logjam-compress', ['--once', blocked, fine]);
      expect(result.code, result.stderr).to.equal(1);
      expect(result.stderr).to.include(`failed to compress ${path.join(blocked, 'app-20240101T0000Z.log')}: EACCES`);
      expect(result.stderr).to.include(
        `${path.join(blocked, 'archive')} is not writable by this user (uid ${uid}): make it writable`,
      );
      expect(await exists(path.join(blocked, 'app-20240101T0000Z.log'))).to.equal(true);
      expect(await ls(path.join(blocked, 'archive'))).to.deep.equal([]);
      expect(await ls(path.join(fine, 'archive'))).to.deep.equal(['app-20240101T0000Z.log.gz']);
    });

    describe('logjam-upload', () => {
      const servers = useS3AndImds({ buckets: ['logs'] });
      let home: string;

      it('an unwritable .uploaded/: exit 2 at start, one line with the path and the fix, nothing uploaded; once fixed, uploaded once', async () => {
        const root = await openTmpDir();
        home = path.join(root, 'home');
        await fs.mkdir(home);
        const dir = path.join(root, 'archive');
        await fs.mkdir(dir);
        await fs.writeFile(path.join(dir, 'app-20240105T1300Z.log.gz'), 'one\n');
        for (const f of [home, dir, path.join(dir, 'app-20240105T1300Z.log.gz')]) await fs.chown(f, uid, gid);
        const markers = path.join(dir, '.uploaded');
        await fs.mkdir(markers, { mode: 0o755 }); // root's
        const env = imdsEnv(servers.imds.endpoint, home);
        const args = [
          '--once',
          '--endpoint-url',
          servers.s3.endpoint,
          '--force-path-style',
          dir,
          's3://logs/perm/{prefix}/{year}/{month}/{day}/{filename}',
        ];
        const key = 'perm/app/2024/01/05/app-20240105T1300Z.log.gz';

        // Found before any request: no upload whose marker could not be written.
        servers.s3.requests.length = 0;
        const first = await runAsNobody('logjam-upload', args, env);
        expect(first.code, first.stderr).to.equal(2);
        expect(first.stderr.trimEnd().split('\n')).to.have.length(1);
        expect(first.stderr).to.include(`${markers} is not writable by this user (uid ${uid})`);
        expect(first.stderr).to.include("run logjam-upload as the folder's owner");
        expect(servers.s3.requests).to.deep.equal([]);

        // Fixed: uploaded once, and marked.
        await fs.chown(markers, uid, gid);
        const fixed = await runAsNobody('logjam-upload', args, env);
        expect(fixed.code, fixed.stderr).to.equal(0);
        expect(servers.s3.writes()).to.have.length(1);
        expect((await servers.s3.download('logs', key)).toString()).to.equal('one\n');
        expect(await ls(markers)).to.deep.equal(['app-20240105T1300Z.log.gz']);
      });
    });
  });
});
