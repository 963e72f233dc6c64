// Root over what others own, continued (issue 23): what an unprivileged user
// of the test's own can try through --user, the lock, the metrics file, the
// markers, --check and the text log. Root must neither read for them what they
// could not read, nor hang, nor be held off by them.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ls, runBin, startBin, waitExit, waitFor } from './support/index.ts';
import { makeAttacker, useAttacker } from './support/attacker.ts';
import { numbered, write } from './reliability/helpers.ts';

const LOG = 'app-20240101T0000Z.log';
const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';

describe('security: what others own can try through --user, the lock, the metrics file and the logs', function () {
  this.timeout(120_000);
  const { attacker, place } = useAttacker('logjam-attacker-');

  describe('--user as su does it', () => {
    it("keeps the user's supplementary groups (initgroups): a member of adm compresses a root:adm 0640 log", async () => {
      const member = makeAttacker({ groups: ['adm'] });
      try {
        const logs = path.join(await place(), 'logs');
        await write(path.join(logs, LOG), 'adm may read\n');
        const adm = Number(execFileSync('getent', ['group', 'adm'], { encoding: 'utf8' }).split(':')[2]);
        await fs.chown(path.join(logs, LOG), 0, adm);
        await fs.chmod(path.join(logs, LOG), 0o640);
        await fs.chown(logs, member.uid, member.gid);
        const result = await runBin('logjam-compress', ['--once', '--user', member.name, logs]);
        expect(result.code, result.stderr).to.equal(0);
        expect(zlib.gunzipSync(await fs.readFile(path.join(logs, 'archive', `${LOG}.gz`))).toString()).to.equal(
          'adm may read\n',
        );
      } finally {
        member.remove();
      }
    });

    it("the child's environment is reduced (no AWS_* for logjam-compress, nothing of cron's), HOME stays root's, and it runs with the user's groups", async () => {
      const logs = path.join(await place(), 'logs');
      await fs.mkdir(logs);
      await fs.chown(logs, attacker().uid, attacker().gid);
      const child = startBin('logjam-compress', ['--user', attacker().name, '--log-level', 'debug', logs], {
        env: { AWS_SECRET_ACCESS_KEY: 'root-secret', SOME_CRON_VARIABLE: 'x', HOME: '/root', SENTRY_DSN: '' },
      });
      try {
        await waitFor(() => child.output().stderr.includes('pass done'), { what: 'the first pass' });
        const [worker] = (await fs.readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8'))
          .trim()
          .split(/\s+/);
        const environ = (await fs.readFile(`/proc/${worker}/environ`, 'utf8')).split('\0');
        expect(environ.filter((v) => /^(AWS_|SOME_CRON)/.test(v))).to.deep.equal([]);
        expect(environ).to.include('HOME=/root').and.include(`USER=${attacker().name}`);
        const status = await fs.readFile(`/proc/${worker}/status`, 'utf8');
        expect(/^Uid:\s+(\d+)/m.exec(status)![1]).to.equal(String(attacker().uid));
      } finally {
        child.kill('SIGTERM');
        await waitExit(child);
      }
    });
  });

  describe('the lock is held by the kernel', () => {
    it("the attacker's process named logjam-compress (exec -a), its pid in the lock: no lock, taken over at once, the folder compressed", async () => {
      const logs = path.join(await place(), 'logs');
      await write(path.join(logs, LOG), numbered(10));
      execFileSync('chown', ['-R', `${attacker().uid}:${attacker().gid}`, logs]);
      const impostor = attacker().start(['/bin/bash', '-c', 'exec -a logjam-compress sleep 1000']);
      try {
        const lock = path.join(logs, '.logjam-compress.lock');
        await fs.writeFile(lock, `${impostor.pid}\n`);
        await fs.chown(lock, attacker().uid, attacker().gid);
        const result = await runBin('logjam-compress', ['--once', '--user', attacker().name, logs]);
        expect(result.code, result.stderr).to.equal(0);
        expect(result.stderr).to.include(
          `took over the lock ${lock}: it held pid ${impostor.pid}, but no process held the lock`,
        );
        expect(await ls(path.join(logs, 'archive'))).to.deep.equal([`${LOG}.gz`]);
      } finally {
        impostor.kill('SIGKILL');
      }
    });
  });

  describe('the metrics file', () => {
    it('a FIFO, then a link to /dev/zero, that the attacker put at --metrics-file: never read, no hang, replaced by a regular file', async () => {
      const root = await place();
      const textfile = path.join(root, 'textfile');
      await fs.mkdir(textfile);
      await fs.chown(textfile, attacker().uid, attacker().gid);
      const logs = path.join(root, 'logs');
      await write(path.join(logs, LOG), numbered(10));
      const metrics = path.join(textfile, 'compress.prom');
      attacker().run(['mkfifo', metrics]);
      const first = await runBin('logjam-compress', ['--once', '--metrics-file', metrics, logs], { timeoutMs: 20_000 });
      expect(first.code, first.stderr).to.equal(0);
      expect((await fs.lstat(metrics)).isFile(), 'the FIFO replaced').to.equal(true);
      expect(await fs.readFile(metrics, 'utf8')).to.include('logjam_compress_files_total');
      await fs.rm(metrics);
      attacker().run(['ln', '-s', '/dev/zero', metrics]);
      const second = await runBin('logjam-compress', ['--once', '--metrics-file', metrics, logs], {
        timeoutMs: 20_000,
      });
      expect(second.code, second.stderr).to.equal(0);
      expect((await fs.lstat(metrics)).isFile(), 'the link replaced').to.equal(true);
    });
  });

  describe('smaller leaks', () => {
    it("logjam-upload --check: a link named like an archive, to a root-only file, does not disclose that file's size or mtime", async () => {
      const root = await place();
      await write(path.join(root, 'secret', 'shadow'), 'x'.repeat(54321), Date.parse('2020-01-01T00:00:00Z') / 1000);
      await fs.chmod(path.join(root, 'secret'), 0o700);
      const dir = path.join(root, 'logs', 'archive');
      await fs.mkdir(dir, { recursive: true });
      execFileSync('chown', ['-R', `${attacker().uid}:${attacker().gid}`, path.join(root, 'logs')]);
      attacker().run(['ln', '-s', path.join(root, 'secret', 'shadow'), path.join(dir, `${LOG}.gz`)]);
      const result = await runBin('logjam-upload', ['--check', '--max-age', '100000d', dir, TEMPLATE]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include('files=1 bytes=0B ').and.not.include('54321');
    });

    it('only a regular file in .uploaded/ is a marker: a folder or a link there leaves its archive waiting', async () => {
      const dir = path.join(await place(), 'logs', 'archive');
      const other = 'app-20240101T0100Z.log.gz';
      await write(path.join(dir, `${LOG}.gz`), 'one\n');
      await write(path.join(dir, other), 'two\n');
      await fs.mkdir(path.join(dir, '.uploaded', `${LOG}.gz`), { recursive: true });
      await fs.symlink('/etc/hostname', path.join(dir, '.uploaded', other));
      const result = await runBin('logjam-upload', ['--check', '--max-age', '100000d', dir, TEMPLATE]);
      expect(result.stdout).to.include('files=2 ');
    });

    it('ESC and other control characters in a file name reach text logs escaped as JSON escapes them', async () => {
      const logs = path.join(await place(), 'logs');
      const name = 'app-20240101T0000Z-\u001b[2J\u0007x.log';
      await write(path.join(logs, name), 'x\n');
      const result = await runBin('logjam-compress', ['--once', '--log-level', 'debug', logs]);
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr).to.include('\\u001b[2J\\u0007x.log');
      expect(/[\u0000-\u0008\u000b-\u001f\u007f]/.test(result.stderr), 'no raw control character').to.equal(false);
    });
  });
});
