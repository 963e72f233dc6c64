// Root in a directory that others can write: what a hostile or careless owner
// of LOG_DIR can put in it (links at every path logjam writes through, a lock
// that is no lock, loose permissions, a swap of archive/ in the middle of a
// pass) must never make logjam write, rename or delete anything outside
// LOG_DIR and its real archive/. The built binaries, as root (CI runs as root);
// a directory beside LOG_DIR, `victim`, stands for the rest of the system.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseSamples } from '@logjam/core';
import { cleanupTmpDirs, exists, ls, runBin, startLockHolder, tmpDir, type RunResult } from './support/index.ts';
import { imdsEnv } from './support/imds.ts';
import { holdLock } from './support/lock-holder.ts';
import { useS3AndImds } from './support/servers.ts';
import { canDropPrivileges, gunzip, isRoot, nobodyIds, numbered, write } from './reliability/helpers.ts';

const LOG = 'app-20240101T0000Z.log';
const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';

/** A LOG_DIR (`logs`) with one closed log file, and an empty `victim` beside it. */
async function setUp(): Promise<{ root: string; logs: string; victim: string }> {
  const root = await tmpDir('logjam-security-');
  const logs = path.join(root, 'logs');
  const victim = path.join(root, 'victim');
  await fs.mkdir(victim);
  await write(path.join(logs, LOG), numbered(100));
  return { root, logs, victim };
}

/** The lines logjam wrote at `level` (text format). */
function lines(result: RunResult, level: 'WARN' | 'ERROR'): string[] {
  return result.stderr.split('\n').filter((line) => line.includes(` ${level} `));
}

describe('security: root in a directory others can write', function () {
  this.timeout(120_000);
  before(function () {
    if (!isRoot()) {
      console.log('    (skipped: these tests run as root, as CI does; run npm test as root to enable them)');
      this.skip();
    }
  });
  afterEach(cleanupTmpDirs);

  describe('logjam-compress: links it did not make', () => {
    it('archive/ as a link to another directory: exit 2, one line naming it and the fix, nothing written there; other directories are done', async () => {
      const { root, logs, victim } = await setUp();
      await fs.symlink('../victim', path.join(logs, 'archive'));
      const other = path.join(root, 'other');
      await write(path.join(other, LOG), 'other\n');
      const result = await runBin('logjam-compress', ['--once', logs, other]);
      expect(result.code, result.stderr).to.equal(2);
      expect(lines(result, 'ERROR')).to.have.length(1);
      expect(lines(result, 'ERROR')[0])
        .to.include(`${path.join(logs, 'archive')} is a symbolic link; logjam never follows a link it did not make`)
        .and.include('replace it with a real directory');
      expect(await ls(victim)).to.deep.equal([]);
      expect(await exists(path.join(logs, LOG))).to.equal(true);
      expect(await ls(path.join(other, 'archive'))).to.deep.equal([`${LOG}.gz`]);
    });

    it('archive/ as a file: exit 2, named, the file untouched', async () => {
      const { logs } = await setUp();
      await fs.writeFile(path.join(logs, 'archive'), 'not a directory\n');
      const result = await runBin('logjam-compress', ['--once', logs]);
      expect(result.code, result.stderr).to.equal(2);
      expect(lines(result, 'ERROR')[0]).to.include(
        `${path.join(logs, 'archive')} exists but is not a directory: move it away`,
      );
      expect(await fs.readFile(path.join(logs, 'archive'), 'utf8')).to.equal('not a directory\n');
      expect(await exists(path.join(logs, LOG))).to.equal(true);
    });

    it('the lock as a link to a busy file: exit 2, named, the target untouched; other directories are done', async () => {
      const { root, logs, victim } = await setUp();
      await fs.writeFile(path.join(victim, 'busy.log'), 'busy\n');
      await fs.symlink(path.join(victim, 'busy.log'), path.join(logs, '.logjam-compress.lock'));
      const other = path.join(root, 'other');
      await write(path.join(other, LOG), 'other\n');
      const result = await runBin('logjam-compress', ['--once', logs, other]);
      expect(result.code, result.stderr).to.equal(2);
      expect(lines(result, 'ERROR')).to.have.length(1);
      expect(lines(result, 'ERROR')[0]).to.include(
        `the lock ${path.join(logs, '.logjam-compress.lock')} is a symbolic link, which logjam never follows: remove it`,
      );
      expect(await fs.readFile(path.join(victim, 'busy.log'), 'utf8')).to.equal('busy\n');
      expect(await exists(path.join(logs, LOG))).to.equal(true);
      expect(await ls(path.join(other, 'archive'))).to.deep.equal([`${LOG}.gz`]);
    });

    it('the metrics file in a folder that is a link: said, nothing written there, the pass itself done', async () => {
      const { root, logs, victim } = await setUp();
      await fs.symlink('victim', path.join(root, 'textfile'));
      const result = await runBin('logjam-compress', [
        '--once',
        '--metrics-file',
        path.join(root, 'textfile', 'compress.prom'),
        logs,
      ]);
      expect(lines(result, 'ERROR')[0]).to.include(
        `cannot write the metrics file ${path.join(root, 'textfile', 'compress.prom')}: ${path.join(root, 'textfile')} is a symbolic link`,
      );
      expect(await ls(victim)).to.deep.equal([]);
      expect(await ls(path.join(logs, 'archive'))).to.deep.equal([`${LOG}.gz`]);
    });
  });

  describe('logjam-compress: locks that are no lock', () => {
    it('a lock file holding garbage that no process holds: taken over at once, said at WARN, the directory compressed', async () => {
      const { logs } = await setUp();
      const lock = path.join(logs, '.logjam-compress.lock');
      await fs.writeFile(lock, 'garbage\n');
      const result = await runBin('logjam-compress', ['--once', logs]);
      expect(result.code, result.stderr).to.equal(0);
      expect(lines(result, 'WARN')[0]).to.include(
        `took over the lock ${lock}: it held "garbage", not a pid, but no process held the lock`,
      );
      expect(await ls(path.join(logs, 'archive'))).to.deep.equal([`${LOG}.gz`]);
      expect(await exists(lock), 'released').to.equal(false);
    });

    it('a lock file holding the pid of a running process that names itself logjam-compress (exec -a), or a reused pid: not a lock, taken over at once', async () => {
      const { logs } = await setUp();
      const busy = startLockHolder('logjam-compress');
      try {
        const lock = path.join(logs, '.logjam-compress.lock');
        await fs.writeFile(lock, `${busy.pid}\n`);
        const result = await runBin('logjam-compress', ['--once', logs]);
        expect(result.code, result.stderr).to.equal(0);
        expect(lines(result, 'WARN')[0]).to.include(
          `took over the lock ${lock}: it held pid ${busy.pid}, but no process held the lock`,
        );
        expect(await ls(path.join(logs, 'archive'))).to.deep.equal([`${LOG}.gz`]);
      } finally {
        busy.kill('SIGKILL');
      }
    });

    it('--once skipped for a lock held by a running logjam-compress: WARN, counted in the metrics, and --check fails once the file waited longer than --max-age', async () => {
      const { root, logs } = await setUp();
      const holder = await holdLock(path.join(logs, '.logjam-compress.lock'), 'logjam-compress');
      try {
        const metrics = path.join(root, 'compress.prom');
        const result = await runBin('logjam-compress', ['--once', '--metrics-file', metrics, logs]);
        expect(result.code, result.stderr).to.equal(0);
        expect(lines(result, 'WARN')).to.have.length(1);
        expect(lines(result, 'WARN')[0]).to.include(
          `another logjam-compress (pid ${holder.pid}) is working on ${logs}; skipped it`,
        );
        expect(parseSamples(await fs.readFile(metrics, 'utf8')).get('logjam_compress_skipped_locked_total')).to.equal(
          1,
        );
        // The file closed hours ago and is still there: the check says so, whatever kept it.
        const check = await runBin('logjam-compress', ['--check', '--max-age', '30m', logs]);
        expect(check.code, check.stdout).to.equal(1);
        expect(check.stdout).to.match(/^WARNING: 1 file due for compression/);
      } finally {
        holder.kill('SIGKILL');
      }
    });
  });

  describe('logjam-compress: the permission rule', () => {
    for (const [label, mode, gid, why] of [
      ['writable by every user', 0o777, 0, 'writable by every user (mode 0777)'],
      ["writable by a group other than root's", 0o775, 65534, "writable by group 65534, not root's (mode 0775)"],
    ] as const) {
      it(`a LOG_DIR ${label}: refused with one line saying why and the fixes, exit 2; accepted with --insecure-permissions`, async () => {
        const { logs } = await setUp();
        await fs.chown(logs, 0, gid);
        await fs.chmod(logs, mode);
        const refused = await runBin('logjam-compress', ['--once', logs]);
        expect(refused.code, refused.stderr).to.equal(2);
        expect(lines(refused, 'ERROR')).to.have.length(1);
        expect(lines(refused, 'ERROR')[0])
          .to.include(`${logs} is ${why}`)
          .and.include('--user USER[:GROUP]')
          .and.include('--insecure-permissions');
        expect(await ls(logs)).to.deep.equal([LOG]);

        const accepted = await runBin('logjam-compress', ['--once', '--insecure-permissions', logs]);
        expect(accepted.code, accepted.stderr).to.equal(0);
        expect(await ls(path.join(logs, 'archive'))).to.deep.equal([`${LOG}.gz`]);
      });
    }

    it('an archive/ writable by every user in a safe LOG_DIR: refused too', async () => {
      const { logs } = await setUp();
      await fs.mkdir(path.join(logs, 'archive'));
      await fs.chmod(path.join(logs, 'archive'), 0o777);
      const result = await runBin('logjam-compress', ['--once', logs]);
      expect(result.code, result.stderr).to.equal(2);
      expect(lines(result, 'ERROR')[0]).to.include(`${path.join(logs, 'archive')} is writable by every user`);
      expect(await exists(path.join(logs, LOG))).to.equal(true);
    });

    it('LOGJAM_INSECURE_PERMISSIONS=1 does what the flag does', async () => {
      const { logs } = await setUp();
      await fs.chmod(logs, 0o777);
      const result = await runBin('logjam-compress', ['--once', logs], { env: { LOGJAM_INSECURE_PERMISSIONS: '1' } });
      expect(result.code, result.stderr).to.equal(0);
      expect(await ls(path.join(logs, 'archive'))).to.deep.equal([`${LOG}.gz`]);
    });
  });

  describe('logjam-compress --user', () => {
    before(function () {
      if (!canDropPrivileges()) {
        console.log(
          '    (skipped: nobody cannot run node on this repository; run as root with the repository readable by all)',
        );
        this.skip();
      }
    });

    /** The test's temporary root is made 0700 by mkdtemp: nobody must be able to reach LOG_DIR in it. */
    async function reachable(root: string): Promise<void> {
      await fs.chmod(root, 0o755);
    }

    it("a world-writable LOG_DIR with --user nobody: archives owned by nobody, the source deleted with nobody's rights", async () => {
      const { root, logs } = await setUp();
      await reachable(root);
      await fs.chmod(logs, 0o777); // loose on purpose: the case --user is for
      const { uid, gid } = nobodyIds();
      const result = await runBin('logjam-compress', ['--once', '--user', 'nobody', logs]);
      expect(result.code, result.stderr).to.equal(0);
      const archive = path.join(logs, 'archive', `${LOG}.gz`);
      const stats = await fs.stat(archive);
      expect([stats.uid, stats.gid]).to.deep.equal([uid, gid]);
      expect((await fs.stat(path.join(logs, 'archive'))).uid, 'archive/ made by nobody').to.equal(uid);
      expect((await gunzip(archive)).toString()).to.equal(numbered(100));
      expect(await exists(path.join(logs, LOG))).to.equal(false);
    });

    it('with --user nobody, nothing is done that nobody may not do: a root-owned archive/ fails with EACCES, the source kept', async () => {
      const { root, logs } = await setUp();
      await reachable(root);
      await fs.chmod(logs, 0o777);
      await fs.mkdir(path.join(logs, 'archive'), { mode: 0o755 }); // root's
      const result = await runBin('logjam-compress', ['--once', '--user', 'nobody:nogroup', logs]);
      expect(result.code, result.stderr).to.equal(1);
      expect(result.stderr).to.include('EACCES');
      expect(await ls(path.join(logs, 'archive'))).to.deep.equal([]);
      expect(await exists(path.join(logs, LOG))).to.equal(true);
    });

    it('--user with an unknown user: exit 2, one line', async () => {
      const { logs } = await setUp();
      const result = await runBin('logjam-compress', ['--once', '--user', 'no-such-user-logjam', logs]);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr).to.match(
        /^\S+ logjam-compress CRITICAL --user: no such user 'no-such-user-logjam' \(see 'logjam-compress --help'\) exit=2\n$/,
      );
    });

    it('LOGJAM_USER does what --user does, and a bad one names the variable', async () => {
      const { root, logs } = await setUp();
      await reachable(root);
      await fs.chmod(logs, 0o777);
      const result = await runBin('logjam-compress', ['--once', logs], { env: { LOGJAM_USER: 'nobody' } });
      expect(result.code, result.stderr).to.equal(0);
      expect((await fs.stat(path.join(logs, 'archive', `${LOG}.gz`))).uid).to.equal(nobodyIds().uid);
      const bad = await runBin('logjam-compress', ['--once', logs], { env: { LOGJAM_USER: 'no-such-user-logjam' } });
      expect(bad.code, bad.stderr).to.equal(2);
      expect(bad.stderr).to.match(
        /^\S+ logjam-compress CRITICAL environment variable LOGJAM_USER="no-such-user-logjam": --user: no such user/,
      );
    });
  });

  describe('logjam-compress: archive/ swapped for a link while passes run', () => {
    it('a hostile loop swapping archive/ and a link to the victim for the whole run: no byte outside LOG_DIR, no line lost', async () => {
      const { root, logs, victim } = await setUp();
      await fs.rm(path.join(logs, LOG));
      const files = 60;
      const content = (i: number) => numbered(200, `file${i}`);
      const name = (i: number) => `app${i}-20240101T0000Z.log`;
      for (let i = 0; i < files; i += 1) await write(path.join(logs, name(i)), content(i));
      await fs.mkdir(path.join(logs, 'archive'));

      // The hostile owner, in a process of its own so that it really runs
      // between the steps of a pass: archive/ moved aside and a link put in
      // its place, then back, over and over (a bounded number of times).
      const swapper = spawn(
        process.execPath,
        [
          '-e',
          `const fs = require('fs');
           const [dir, victim, rounds] = [process.argv[1], process.argv[2], Number(process.argv[3])];
           for (let i = 0; i < rounds; i += 1) {
             try { fs.renameSync(dir + '/archive', dir + '/archive.real'); } catch {}
             try { fs.symlinkSync(victim, dir + '/archive'); } catch {}
             try { fs.unlinkSync(dir + '/archive'); } catch {}
             try { fs.renameSync(dir + '/archive.real', dir + '/archive'); } catch {}
           }`,
          logs,
          victim,
          '200000',
        ],
        { stdio: 'ignore' },
      );
      const swapperDone = new Promise((resolve) => swapper.on('exit', resolve));
      const results: RunResult[] = [];
      try {
        // Small passes, one file at a time, for as long as the swapper runs (bounded).
        for (let pass = 0; pass < 12 && swapper.exitCode === null; pass += 1) {
          results.push(await runBin('logjam-compress', ['--once', '--jobs', '1', logs]));
        }
      } finally {
        swapper.kill('SIGKILL');
        await swapperDone;
      }
      expect(await ls(victim), 'nothing ever written in the victim').to.deep.equal([]);
      expect(await ls(root)).to.deep.equal(['logs', 'victim']);
      expect(results.length, 'passes ran while the swapper ran').to.be.greaterThan(0);
      // A swap seen is a configuration error (2), never a failed file (1).
      for (const result of results) expect(result.code, result.stderr).to.be.oneOf([0, 2]);
      // Put things back as the owner would (the link away, the real archive/ in
      // its place unless logjam made a new one meanwhile), then a last pass finishes the work.
      if ((await fs.lstat(path.join(logs, 'archive')).catch(() => null))?.isSymbolicLink())
        await fs.unlink(path.join(logs, 'archive'));
      if (!(await exists(path.join(logs, 'archive'))))
        await fs.rename(path.join(logs, 'archive.real'), path.join(logs, 'archive'));
      const last = await runBin('logjam-compress', ['--once', logs]);
      expect(last.code, last.stderr).to.equal(0);
      const dirs = await ls(logs);
      expect(
        dirs.filter((d) => !d.startsWith('archive')),
        'every source archived',
      ).to.deep.equal([]);
      const archived: Array<{ dir: string; name: string }> = [];
      for (const dir of dirs) for (const name of await ls(path.join(logs, dir))) archived.push({ dir, name });
      for (let i = 0; i < files; i += 1) {
        // Every line is in an archive of its file, in archive/ or where the swapper moved it (both inside LOG_DIR).
        const mine = archived.filter((a) => a.name.startsWith(`app${i}-`));
        expect(mine.length, name(i)).to.be.greaterThan(0);
        for (const a of mine)
          expect((await gunzip(path.join(logs, a.dir, a.name))).toString(), a.name).to.equal(content(i));
      }
    });
  });

  describe('logjam-upload', () => {
    const servers = useS3AndImds({ buckets: ['logs'] });
    const upload = async (args: string[], extra: NodeJS.ProcessEnv = {}) =>
      runBin('logjam-upload', ['--once', '--endpoint-url', servers.s3.endpoint, '--force-path-style', ...args], {
        env: imdsEnv(servers.imds.endpoint, await tmpDir(), extra),
      });

    async function archiveDir(): Promise<{ root: string; dir: string; victim: string }> {
      const root = await tmpDir('logjam-security-');
      const dir = path.join(root, 'logs', 'archive');
      const victim = path.join(root, 'victim');
      await fs.mkdir(dir, { recursive: true });
      await fs.mkdir(victim);
      await fs.writeFile(path.join(dir, `${LOG}.gz`), 'archive\n');
      return { root, dir, victim };
    }

    it('ARCHIVE_DIR that is a link: exit 2, one line naming it; nothing read or written through it', async () => {
      const { root, victim } = await archiveDir();
      await fs.writeFile(path.join(victim, `${LOG}.gz`), 'victim\n');
      await fs.mkdir(path.join(root, 'other'));
      await fs.symlink('../victim', path.join(root, 'other', 'archive'));
      const result = await upload([path.join(root, 'other', 'archive'), TEMPLATE]);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr).to.match(
        new RegExp(
          `^\\S+ logjam-upload CRITICAL ${path.join(root, 'other', 'archive')} is a symbolic link; logjam never follows a link it did not make .* exit=2\\n$`,
        ),
      );
      expect(await ls(victim)).to.deep.equal([`${LOG}.gz`]);
    });

    it('.uploaded/ that is a link: exit 2, named; no marker written in its target', async () => {
      const { dir, victim } = await archiveDir();
      await fs.symlink('../../victim', path.join(dir, '.uploaded'));
      const result = await upload([dir, TEMPLATE]);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr).to.include(`${path.join(dir, '.uploaded')} is a symbolic link`);
      expect(await ls(victim)).to.deep.equal([]);
    });

    it('the lock as a link: exit 2, named, the target untouched', async () => {
      const { dir, victim } = await archiveDir();
      await fs.writeFile(path.join(victim, 'busy.log'), 'busy\n');
      await fs.symlink(path.join(victim, 'busy.log'), path.join(dir, '.logjam-upload.lock'));
      const result = await upload([dir, TEMPLATE]);
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr).to.include(
        `the lock ${path.join(dir, '.logjam-upload.lock')} is a symbolic link, which logjam never follows`,
      );
      expect(await fs.readFile(path.join(victim, 'busy.log'), 'utf8')).to.equal('busy\n');
    });

    it('a world-writable ARCHIVE_DIR: refused, exit 2, one line with the fixes; uploaded with --insecure-permissions', async () => {
      const { dir } = await archiveDir();
      await fs.chmod(dir, 0o777);
      const refused = await upload([dir, TEMPLATE]);
      expect(refused.code, refused.stderr).to.equal(2);
      expect(refused.stderr).to.match(
        new RegExp(
          `^\\S+ logjam-upload CRITICAL ${dir} is writable by every user \\(mode 0777\\): .*--insecure-permissions exit=2\\n$`,
        ),
      );
      expect(await exists(path.join(dir, '.uploaded'))).to.equal(false);
      const accepted = await upload(['--insecure-permissions', dir, TEMPLATE]);
      expect(accepted.code, accepted.stderr).to.equal(0);
      expect((await servers.s3.download('logs', `app/2024/01/01/${LOG}.gz`)).toString()).to.equal('archive\n');
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([`${LOG}.gz`]);
    });

    it("--user nobody: the markers are nobody's", async function () {
      if (!canDropPrivileges()) return this.skip();
      const { root, dir } = await archiveDir();
      await fs.chmod(root, 0o755); // nobody must reach ARCHIVE_DIR
      const { uid } = nobodyIds();
      await fs.chown(dir, uid, 0);
      const result = await upload(['--user', 'nobody', dir, TEMPLATE]);
      expect(result.code, result.stderr).to.equal(0);
      expect((await fs.stat(path.join(dir, '.uploaded', `${LOG}.gz`))).uid).to.equal(uid);
    });
  });
});
