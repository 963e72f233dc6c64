// Root over folders that others own (issue 23): an unprivileged user of the
// test's own owns LOG_DIR, a folder above it, or archive/, and tries to make
// root act for them. Root must refuse (one line naming the owner and
// `--user OWNER`, exit 2), never follow a link anywhere in the path, and once
// it holds LOG_DIR, work in that very folder whatever its name comes to mean.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { exists, ls, runBin, tmpDir, type RunResult } from './support/index.ts';
import { makeAttacker, useAttacker } from './support/attacker.ts';
import { imdsEnv } from './support/imds.ts';
import { S3RVER_KEY, S3RVER_SECRET } from './support/s3.ts';
import { useS3AndImds } from './support/servers.ts';
import { numbered, write } from './reliability/helpers.ts';

const LOG = 'app-20240101T0000Z.log';
const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';

/** The ERROR lines logjam wrote (text format). */
function errors(result: RunResult): string[] {
  return result.stderr.split('\n').filter((line) => line.includes(' ERROR '));
}

/** Every byte under `dir`, gunzipped where it is gzip, links not followed. */
async function allContent(dir: string): Promise<string> {
  let text = '';
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const bytes = await fs.readFile(path.join(entry.parentPath, entry.name));
    text += bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes).toString() : bytes.toString();
  }
  return text;
}

describe('security: root over folders that others own', function () {
  this.timeout(120_000);
  const { attacker, place } = useAttacker('logjam-owners-');

  describe('logjam-compress: ownership, not only mode', () => {
    it('a LOG_DIR the attacker owns (0755): refused as root, one line naming the owner and --user OWNER, exit 2, nothing touched; done as the owner with --user', async () => {
      const logs = path.join(await place(), 'logs');
      await write(path.join(logs, LOG), numbered(10));
      await fs.chown(logs, attacker().uid, attacker().gid);
      await fs.chown(path.join(logs, LOG), attacker().uid, attacker().gid);
      const result = await runBin('logjam-compress', ['--once', logs]);
      expect(result.code, result.stderr).to.equal(2);
      expect(errors(result)).to.have.length(1);
      expect(errors(result)[0])
        .to.include(`${logs} is owned by ${attacker().name} (uid ${attacker().uid}), not root`)
        .and.include(`--user ${attacker().name}`);
      expect(await ls(logs)).to.deep.equal([LOG]);
      const asOwner = await runBin('logjam-compress', ['--once', '--user', attacker().name, logs]);
      expect(asOwner.code, asOwner.stderr).to.equal(0);
      expect((await fs.stat(path.join(logs, 'archive', `${LOG}.gz`))).uid).to.equal(attacker().uid);
    });

    it('a root-owned LOG_DIR below a folder the attacker owns: refused, the line names that folder and its owner', async () => {
      const theirs = path.join(await place(), 'theirs');
      const logs = path.join(theirs, 'logs');
      await write(path.join(logs, LOG), numbered(10));
      await fs.chown(theirs, attacker().uid, attacker().gid);
      const result = await runBin('logjam-compress', ['--once', logs]);
      expect(result.code, result.stderr).to.equal(2);
      expect(errors(result)[0])
        .to.include(
          `${logs} is below ${theirs}, which is owned by ${attacker().name} (uid ${attacker().uid}), not root`,
        )
        .and.include(`--user ${attacker().name}`);
      expect(await ls(logs)).to.deep.equal([LOG]);
    });

    it('a root-owned LOG_DIR below a folder a group can write: refused; below a root-owned sticky one (as /tmp): done', async () => {
      const shared = path.join(await place(), 'shared');
      const logs = path.join(shared, 'logs');
      await write(path.join(logs, LOG), numbered(10));
      await fs.chown(shared, 0, attacker().gid);
      await fs.chmod(shared, 0o775);
      const refused = await runBin('logjam-compress', ['--once', logs]);
      expect(refused.code, refused.stderr).to.equal(2);
      expect(errors(refused)[0]).to.include(
        `${logs} is below ${shared}, which is writable by group ${attacker().gid}, not root's (mode 0775)`,
      );
      await fs.chmod(shared, 0o1777);
      const sticky = await runBin('logjam-compress', ['--once', logs]);
      expect(sticky.code, sticky.stderr).to.equal(0);
      expect(await ls(path.join(logs, 'archive'))).to.deep.equal([`${LOG}.gz`]);
    });

    it('an archive/ the attacker owns, made setgid with a default ACL for them: refused, the log kept, no archive readable by them', async () => {
      const logs = path.join(await place(), 'logs');
      await write(path.join(logs, LOG), 'secret\n');
      await fs.chmod(path.join(logs, LOG), 0o640);
      const archive = path.join(logs, 'archive');
      await fs.mkdir(archive);
      await fs.chown(archive, attacker().uid, attacker().gid);
      attacker().run(['chmod', '2755', archive]);
      attacker().run(['setfacl', '-d', '-m', `u:${attacker().name}:r`, archive]);
      const result = await runBin('logjam-compress', ['--once', logs]);
      expect(result.code, result.stderr).to.equal(2);
      expect(errors(result)[0]).to.include(
        `${archive} is owned by ${attacker().name} (uid ${attacker().uid}), not root`,
      );
      expect(await ls(archive)).to.deep.equal([]);
      expect(await exists(path.join(logs, LOG))).to.equal(true);
    });
  });

  describe("logjam-compress: the archive is the source's, nothing inherited", () => {
    it("a root:adm 0640 log, archive/ setgid to the attacker's group (by root): the archive is root:adm 0640, unreadable by the attacker", async () => {
      const logs = path.join(await place(), 'logs');
      await write(path.join(logs, LOG), 'root and adm only\n');
      const adm = Number(execFileSync('getent', ['group', 'adm'], { encoding: 'utf8' }).split(':')[2]);
      await fs.chown(path.join(logs, LOG), 0, adm);
      await fs.chmod(path.join(logs, LOG), 0o640);
      const archive = path.join(logs, 'archive');
      await fs.mkdir(archive);
      await fs.chown(archive, 0, attacker().gid);
      await fs.chmod(archive, 0o2755);
      const result = await runBin('logjam-compress', ['--once', logs]);
      expect(result.code, result.stderr).to.equal(0);
      const stats = await fs.stat(path.join(archive, `${LOG}.gz`));
      expect([stats.uid, stats.gid, (stats.mode & 0o7777).toString(8)]).to.deep.equal([0, adm, '640']);
      expect(() => attacker().run(['cat', path.join(archive, `${LOG}.gz`)])).to.throw();
    });

    it('a log that is a hard link to a root-only file: not read as root; exit 1, the line says why and what to do; nothing archived', async () => {
      const root = await place();
      const secret = path.join(root, 'secret');
      await write(path.join(secret, 'shadow'), 'root:SECRET\n');
      await fs.chmod(path.join(secret, 'shadow'), 0o600);
      const logs = path.join(root, 'logs');
      await fs.mkdir(logs);
      await fs.link(path.join(secret, 'shadow'), path.join(logs, LOG));
      const result = await runBin('logjam-compress', ['--once', logs]);
      expect(result.code, result.stderr).to.equal(1);
      expect(errors(result)).to.have.length(1);
      expect(errors(result)[0])
        .to.include(
          `${path.join(logs, LOG)} has 2 hard links: as root, logjam-compress does not read a file that has another name`,
        )
        .and.include('--user OWNER');
      expect(await ls(path.join(logs, 'archive'))).to.deep.equal([]);
      expect(await fs.readFile(path.join(logs, LOG), 'utf8')).to.equal('root:SECRET\n');
    });
  });

  describe('logjam-compress: the path is walked, not resolved', () => {
    it('a link to a folder anywhere in the path of LOG_DIR: refused, the line names the link, its target and the path to give instead', async () => {
      const root = await place();
      const real = path.join(root, 'real');
      await write(path.join(real, 'logs', LOG), numbered(10));
      await fs.symlink('real', path.join(root, 'via'));
      const result = await runBin('logjam-compress', ['--once', path.join(root, 'via', 'logs')]);
      expect(result.code, result.stderr).to.equal(2);
      expect(errors(result)).to.have.length(1);
      expect(errors(result)[0])
        .to.include(
          `${path.join(root, 'via')} is a symbolic link (to real) in the path of LOG_DIR ${path.join(root, 'via', 'logs')}`,
        )
        .and.include(`give the path without links (${path.join(real, 'logs')})`);
      expect(await ls(path.join(real, 'logs'))).to.deep.equal([LOG]);
    });

    it('LOG_DIR itself a link: refused, not followed (also with --insecure-permissions)', async () => {
      const root = await place();
      await write(path.join(root, 'real', LOG), numbered(10));
      await fs.symlink('real', path.join(root, 'logs'));
      const result = await runBin('logjam-compress', ['--once', '--insecure-permissions', path.join(root, 'logs')]);
      expect(result.code, result.stderr).to.equal(2);
      expect(errors(result)[0]).to.include(`${path.join(root, 'logs')} is a symbolic link (to real)`);
      expect(await ls(path.join(root, 'real'))).to.deep.equal([LOG]);
    });

    it("the attacker, owning LOG_DIR's parent, swaps LOG_DIR with a link to a root-only folder in a loop: root's logs are never read, moved or deleted", async () => {
      const root = await place();
      const secret = path.join(root, 'secret');
      for (let i = 0; i < 20; i += 1) await write(path.join(secret, `s${i}-20240101T0000Z.log`), `SECRET ${i}\n`);
      await fs.chmod(secret, 0o700);
      const theirs = path.join(root, 'theirs');
      await fs.mkdir(theirs);
      for (let i = 0; i < 20; i += 1) await write(path.join(theirs, 'logs', `m${i}-20240101T0000Z.log`), `mine ${i}\n`);
      await fs.symlink(secret, path.join(theirs, 'link'));
      execFileSync('chown', ['-R', `${attacker().uid}:${attacker().gid}`, theirs]);
      await fs.lchown(path.join(theirs, 'link'), attacker().uid, attacker().gid);
      const swapper = attacker().start([
        '/usr/bin/python3',
        '-c',
        'import ctypes,sys\nc=ctypes.CDLL(None)\na,b=sys.argv[1].encode(),sys.argv[2].encode()\nwhile True: c.renameat2(-100,a,-100,b,2)',
        path.join(theirs, 'logs'),
        path.join(theirs, 'link'),
      ]);
      try {
        // The swapper runs (bounded: a working one is seen within a few thousand looks).
        let swapped = false;
        for (let look = 0; look < 20_000 && !swapped; look += 1)
          swapped = (await fs.lstat(path.join(theirs, 'logs')).catch(() => null))?.isSymbolicLink() ?? false;
        expect(swapped, 'the swapper is running').to.equal(true);
        // --insecure-permissions: the ownership rule alone would refuse it; the descriptor must hold by itself.
        for (let run = 0; run < 15; run += 1) {
          const result = await runBin('logjam-compress', [
            '--once',
            '--insecure-permissions',
            path.join(theirs, 'logs'),
          ]);
          expect(result.code, result.stderr).to.be.oneOf([0, 2]);
        }
      } finally {
        swapper.kill('SIGKILL');
      }
      expect((await ls(secret)).length, 'root-only logs all in place').to.equal(20);
      expect(await allContent(secret)).to.not.include('mine');
      expect(await allContent(theirs)).to.not.include('SECRET');
    });
  });

  describe('logjam-upload: ownership, not only mode', () => {
    const servers = useS3AndImds({ buckets: ['logs'] });

    it("--user: the user's ~/.aws/config is never read (its endpoint_url, a trap, gets no request); root's HOME and settings are", async () => {
      const root = await place();
      const trapped: string[] = [];
      const trap = http.createServer((request, response) => {
        trapped.push(`${request.method} ${request.url}`);
        response.statusCode = 500;
        response.end();
      });
      await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
      const home = path.join(root, 'home');
      const user = makeAttacker({ home });
      try {
        await write(
          path.join(home, '.aws', 'config'),
          `[default]\nendpoint_url = http://127.0.0.1:${(trap.address() as AddressInfo).port}\n`,
        );
        execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, home]);
        const rootHome = path.join(root, 'root-home');
        await write(
          path.join(rootHome, '.aws', 'config'),
          `[default]\nendpoint_url = ${servers.s3.endpoint}\nregion = us-east-1\n`,
        );
        const dir = path.join(root, 'logs', 'archive');
        await write(path.join(dir, `${LOG}.gz`), 'archive\n');
        execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, path.join(root, 'logs')]);
        const env = {
          HOME: rootHome,
          AWS_ACCESS_KEY_ID: S3RVER_KEY,
          AWS_SECRET_ACCESS_KEY: S3RVER_SECRET,
          AWS_EC2_METADATA_DISABLED: 'true',
        };
        const result = await runBin(
          'logjam-upload',
          ['--once', '--force-path-style', '--user', user.name, dir, TEMPLATE],
          { cleanEnv: true, env },
        );
        expect(trapped, "requests to the user's endpoint").to.deep.equal([]);
        expect(result.code, result.stderr).to.equal(0);
        expect((await servers.s3.download('logs', `app/2024/01/01/${LOG}.gz`)).toString()).to.equal('archive\n');
      } finally {
        user.remove();
        trap.close();
      }
    });

    it('an archive that is a hard link to a root-only file: not read as root, exit 1, said why; nothing uploaded, no marker', async () => {
      const root = await place();
      // A name of its own: the bucket is shared with the other tests of this block.
      const HARD = 'hl-20240101T0000Z.log';
      await write(path.join(root, 'secret', 'shadow'), 'root:SECRET\n');
      await fs.chmod(path.join(root, 'secret', 'shadow'), 0o600);
      const dir = path.join(root, 'logs', 'archive');
      await fs.mkdir(dir, { recursive: true });
      await fs.link(path.join(root, 'secret', 'shadow'), path.join(dir, `${HARD}.gz`));
      const result = await runBin(
        'logjam-upload',
        ['--once', '--endpoint-url', servers.s3.endpoint, '--force-path-style', dir, TEMPLATE],
        { env: imdsEnv(servers.imds.endpoint, await tmpDir()) },
      );
      expect(result.code, result.stderr).to.equal(1);
      expect(result.stderr).to.include(
        `${path.join(dir, `${HARD}.gz`)} has 2 hard links: as root, logjam-upload does not read a file that has another name`,
      );
      expect(await servers.s3.keys('logs')).to.not.include(`hl/2024/01/01/${HARD}.gz`);
      expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([]);
    });

    it('an ARCHIVE_DIR the attacker owns: refused as root, one line naming the owner and --user OWNER, exit 2, no .uploaded/ made', async () => {
      const dir = path.join(await place(), 'logs', 'archive');
      await write(path.join(dir, `${LOG}.gz`), 'archive\n');
      await fs.chown(dir, attacker().uid, attacker().gid);
      const result = await runBin(
        'logjam-upload',
        ['--once', '--endpoint-url', 'http://127.0.0.1:9', dir, 's3://logs/{prefix}/{year}/{month}/{day}/{filename}'],
        {
          env: { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_REGION: 'us-east-1' },
        },
      );
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr)
        .to.include(`${dir} is owned by ${attacker().name} (uid ${attacker().uid}), not root`)
        .and.include(`--user ${attacker().name}`);
      expect(await exists(path.join(dir, '.uploaded'))).to.equal(false);
    });

    it('an ARCHIVE_DIR reached through a link: refused, named', async () => {
      const root = await place();
      await write(path.join(root, 'real', 'archive', `${LOG}.gz`), 'archive\n');
      await fs.symlink('real', path.join(root, 'via'));
      const dir = path.join(root, 'via', 'archive');
      const result = await runBin(
        'logjam-upload',
        ['--once', '--endpoint-url', 'http://127.0.0.1:9', dir, 's3://logs/{prefix}/{year}/{month}/{day}/{filename}'],
        {
          env: { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_REGION: 'us-east-1' },
        },
      );
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stderr).to.include(
        `${path.join(root, 'via')} is a symbolic link (to real) in the path of ARCHIVE_DIR ${dir}`,
      );
      expect(await exists(path.join(root, 'real', 'archive', '.uploaded'))).to.equal(false);
    });
  });
});
