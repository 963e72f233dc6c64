// The self-contained executables and the .deb (`npm run package`), black-box,
// as an operator without Node uses them: the executable folder unpacked from
// its .tar.gz somewhere with no node on PATH and no node_modules, then the
// .deb installed, installed again (an upgrade), and purged. Slow, and the .deb
// part installs on this machine: only with LOGJAM_PACKAGE_TESTS=1, after
// `npm run package` (.ci/run does both when the packaging code changed).
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanupTmpDirs, ls, patternedBytes, repoRoot, tmpDir, waitFor } from './support/index.ts';
import { nobodyIds } from './reliability/helpers.ts';
import { imdsEnv } from './support/imds.ts';
import { useS3AndImds } from './support/servers.ts';
import { startFakeSentry } from './support/sentry.ts';
import { startForwardProxy } from './support/forward-proxy.ts';
import { startS3 } from './support/s3.ts';
import { makeTestCa } from './support/tls.ts';

const exec = promisify(execFile);
const ENABLED = process.env.LOGJAM_PACKAGE_TESTS === '1';
const version = (
  JSON.parse(readFileSync(path.join(repoRoot, 'packages/logjam-upload/package.json'), 'utf8')) as { version: string }
).version;
const dist = path.join(repoRoot, 'dist');
const TEMPLATE = 's3://logs/packaged/{prefix}/{year}/{month}/{day}/{filename}';
const HOUR = 3600_000;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}
/** Runs a command to its end; a non-zero exit is a result, not an error. */
async function run(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Ran> {
  try {
    const { stdout, stderr } = await exec(file, args, { ...options, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A closed hourly log file, an hour old, so that logjam-compress takes it. */
async function hourlyLog(dir: string, name: string, text: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, name), text);
  const old = (Date.now() - HOUR) / 1000;
  await fs.utimes(path.join(dir, name), old, old);
}

// Fast, without `npm run package`: the executable's program (scripts/sea-main.mjs) run by node over the build.
describe("the executable's program, by node: logjam --version, --help, and a usage error", () => {
  const main = path.join(repoRoot, 'scripts/sea-main.mjs');
  it('--version and -v print the version (exit 0); --help a usage (exit 0); nothing or an unknown command exits 2', async () => {
    for (const flag of ['--version', '-v']) {
      const v = await run(process.execPath, [main, flag]);
      expect([v.code, v.stdout.trim()], v.stderr).to.deep.equal([0, version]);
    }
    const help = await run(process.execPath, [main, '--help']);
    expect(help.code, help.stderr).to.equal(0);
    expect(help.stdout)
      .to.include('logjam compress')
      .and.to.include('logjam upload')
      .and.to.include('logjam --version | --help');
    for (const args of [[], ['bogus']]) {
      const bad = await run(process.execPath, [main, ...args]);
      expect(bad.code, args.join(' ')).to.equal(2);
      expect(bad.stderr).to.include('logjam-compress or logjam-upload');
    }
    const sub = await run(process.execPath, [main, 'compress', '--version']);
    expect(sub.stdout.trim()).to.equal(version);
  });
});

(ENABLED ? describe : describe.skip)(
  'packaged: the self-contained executable, linux-x64 (LOGJAM_PACKAGE_TESTS=1 after npm run package)',
  function () {
    this.timeout(300_000);
    const servers = useS3AndImds({ buckets: ['logs'] });
    let bin: string;
    let work: string;
    /** Only the unpacked folder on PATH: no node, and a HOME with nothing in it. */
    const env = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: bin, HOME: work, ...extra });

    before(async () => {
      const unpacked = await tmpDir('logjam-sea-');
      await exec('tar', ['-xzf', path.join(dist, `logjam-${version}-linux-x64.tar.gz`), '-C', unpacked]);
      bin = path.join(unpacked, `logjam-${version}-linux-x64`);
      work = await tmpDir('logjam-sea-work-');
    });
    after(cleanupTmpDirs);

    it('holds one executable and the two command links, and needs no node and no node_modules', async () => {
      expect(await ls(bin)).to.deep.equal(['logjam', 'logjam-compress', 'logjam-upload']);
      expect(await fs.readlink(path.join(bin, 'logjam-upload'))).to.equal('logjam');
      for (const dir of [bin, work])
        expect(existsSync(path.join(dir, 'node')) || existsSync(path.join(dir, 'node_modules'))).to.equal(false);
      const { stdout } = await exec('file', ['-L', path.join(bin, 'logjam')]);
      expect(stdout).to.match(/ELF 64-bit LSB .*x86-64/);
      // V8's code cache of each asset (scripts/package.mjs); that it is accepted, the upload below shows (no warning).
      const blob = await fs.readFile(path.join(bin, 'logjam'));
      for (const asset of ['sdk.cjs.cache', 'sentry.cjs.cache']) expect(blob.includes(asset), asset).to.equal(true);
    });

    it('--version and --help, by either name, and as `logjam upload`', async () => {
      for (const name of ['logjam-compress', 'logjam-upload']) {
        const v = await run(name, ['--version'], { env: env(), cwd: work });
        expect(v.stdout.trim(), v.stderr).to.equal(version);
        // Nothing said at start: no "Code cache data rejected" (a cache made under other V8 flags), no experimental warning.
        expect(v.stderr).to.equal('');
        const help = await run(name, ['--help'], { env: env(), cwd: work });
        expect(help.code).to.equal(0);
        expect(help.stdout).to.include(`$ ${name} `).and.to.include('LOGJAM_');
      }
      const sub = await run('logjam', ['upload', '--help'], { env: env(), cwd: work });
      expect(sub.stdout).to.include('$ logjam-upload ');
      const bare = await run('logjam', [], { env: env(), cwd: work });
      expect(bare.code).to.equal(2);
      expect(bare.stderr).to.include('logjam-compress or logjam-upload');
      const v = await run('logjam', ['--version'], { env: env(), cwd: work });
      expect([v.code, v.stdout.trim()], v.stderr).to.deep.equal([0, version]);
      const help = await run('logjam', ['--help'], { env: env(), cwd: work });
      expect(help.code, help.stderr).to.equal(0);
      expect(help.stdout).to.include('logjam --version | --help').and.to.include('man logjam-upload');
    });

    it('compresses a folder, --check sees the archives, and uploads them with instance-role (IMDS) credentials; the bytes in S3 are the archives', async () => {
      const logs = path.join(work, 'logs');
      await hourlyLog(logs, 'app-20240105T1300Z.log', 'a line\n'.repeat(1000));
      const compress = await run('logjam-compress', ['--once', logs], { env: env(), cwd: work });
      expect(compress.code, compress.stderr).to.equal(0);
      const archive = path.join(logs, 'archive');
      expect(await ls(archive)).to.deep.equal(['app-20240105T1300Z.log.gz']);
      // Over 1 MB: its MD5 comes from the digest worker, whose code the executable carries.
      await fs.writeFile(path.join(archive, 'big-20240105T1300Z.log.gz'), patternedBytes(2 * 1024 * 1024 + 3));

      const check = await run('logjam-upload', ['--check', archive, TEMPLATE], { env: env(), cwd: work });
      expect(check.code, check.stderr).to.equal(0);
      expect(check.stdout).to.include('2 files waiting for upload');

      const upload = await run(
        'logjam-upload',
        ['--once', '--endpoint-url', servers.s3.endpoint, '--force-path-style', archive, TEMPLATE],
        {
          // Only the AWS_* variables that point the credential chain at the fake IMDS: nothing of this process's environment.
          env: env(
            Object.fromEntries(
              Object.entries(imdsEnv(servers.imds.endpoint, work)).filter(([key]) => key.startsWith('AWS_')),
            ),
          ),
          cwd: work,
        },
      );
      expect(upload.code, upload.stderr).to.equal(0);
      expect(upload.stderr).to.match(/pass done pending=2 uploaded=2/);
      expect(upload.stderr).not.to.match(/digest worker is unavailable/);
      // Nor that V8 rejected an asset's code cache.
      expect(upload.stderr, 'no warning of its own asset loader').not.to.match(/WARN|Warning/);
      expect(servers.imds.count('/latest/meta-data/iam/security-credentials/')).to.be.above(0);
      for (const name of await ls(archive)) {
        if (name.startsWith('.')) continue;
        const key = `packaged/${name.split('-')[0]}/2024/01/05/${name}`;
        expect(
          Buffer.compare(await servers.s3.download('logs', key), await fs.readFile(path.join(archive, name))),
          key,
        ).to.equal(0);
      }
    });

    it('as a service, by either name: each pass is the executable run again (a child), and uploads; --user runs the work as that user', async () => {
      const awsEnv = Object.fromEntries(
        Object.entries(imdsEnv(servers.imds.endpoint, work)).filter(([key]) => key.startsWith('AWS_')),
      );
      const s3 = ['--endpoint-url', servers.s3.endpoint, '--force-path-style'];
      /** ARCHIVE_DIR with one archive, in a folder every user may enter. */
      const oneArchive = async (name: string): Promise<string> => {
        const root = await tmpDir('logjam-sea-service-');
        await fs.chmod(root, 0o755);
        const archive = path.join(root, 'archive');
        await fs.mkdir(archive);
        await fs.writeFile(path.join(archive, name), patternedBytes(1000 + name.length));
        return archive;
      };
      const inS3 = async (archive: string, name: string) =>
        Buffer.compare(
          await servers.s3.download('logs', `packaged/${name.split('-')[0]}/2024/01/05/${name}`),
          await fs.readFile(path.join(archive, name)),
        );
      for (const [file, sub] of [
        ['logjam-upload', []],
        ['logjam', ['upload']],
      ] as const) {
        const name = `service${sub.length}-20240105T1300Z.log.gz`;
        const archive = await oneArchive(name);
        const child = spawn(path.join(bin, file), [...sub, '--interval', '3600', ...s3, archive, TEMPLATE], {
          env: env(awsEnv),
          cwd: work,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
        await waitFor(
          async () => (await ls(path.join(archive, '.uploaded')).catch((): string[] => [])).includes(name),
          {
            timeoutMs: 60_000,
            what: `${file} ${sub.join(' ')}: the marker`,
          },
        );
        // Started again in place without V8's JIT (core's lean-service.ts), its code cache then refused without a word.
        expect(readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0')).to.include(
          'NODE_OPTIONS=--jitless --no-warnings',
        );
        child.kill('SIGTERM');
        expect(await exited, stderr).to.equal(0);
        expect(stderr, 'no warning').not.to.match(/WARN|Warning/);
        expect(await inS3(archive, name), name).to.equal(0);
      }
      if (process.geteuid?.() !== 0) return;
      const name = 'asnobody-20240105T1300Z.log.gz';
      const archive = await oneArchive(name);
      const { uid, gid } = nobodyIds();
      for (const target of [archive, path.join(archive, name)]) await fs.chown(target, uid, gid);
      // getent (the user database) from the system's PATH, after the executable's folder: still no node.
      const once = await run('logjam-upload', ['--once', '--user', 'nobody', ...s3, archive, TEMPLATE], {
        env: { ...env(awsEnv), PATH: `${bin}:/usr/bin:/bin` },
        cwd: work,
      });
      expect(once.code, once.stderr).to.equal(0);
      expect((await fs.stat(path.join(archive, '.uploaded', name))).uid, 'the marker, made by nobody').to.equal(uid);
      expect(await inS3(archive, name), name).to.equal(0);
    });

    it('uploads through an egress proxy: plain HTTP as absolute URIs (HTTP_PROXY), HTTPS through CONNECT trusting AWS_CA_BUNDLE (HTTPS_PROXY)', async () => {
      const ca = await makeTestCa(await tmpDir('logjam-sea-ca-'));
      const secure = await startS3({ buckets: ['logs'], tls: ca });
      const proxy = await startForwardProxy();
      try {
        for (const [store, variable] of [
          [servers.s3, 'HTTP_PROXY'],
          [secure, 'HTTPS_PROXY'],
        ] as const) {
          const archive = path.join(await tmpDir('logjam-sea-proxy-'), 'archive');
          await fs.mkdir(archive);
          const name = `proxied-20240105T1300Z-${variable}.log.gz`;
          await fs.writeFile(path.join(archive, name), patternedBytes(5000));
          proxy.requests.length = 0;
          store.requests.length = 0;
          const endpoint = store.endpoint.replace('127.0.0.1', 'localhost');
          const imds = Object.fromEntries(
            Object.entries(imdsEnv(servers.imds.endpoint, work)).filter(([key]) => key.startsWith('AWS_')),
          );
          const upload = await run(
            'logjam-upload',
            ['--once', '--endpoint-url', endpoint, '--force-path-style', archive, TEMPLATE],
            {
              env: env({ ...imds, [variable]: proxy.url, AWS_CA_BUNDLE: ca.caFile }),
              cwd: work,
            },
          );
          expect(upload.code, upload.stderr).to.equal(0);
          const through =
            variable === 'HTTP_PROXY'
              ? proxy.requests.filter((r) => r.target.startsWith(`${endpoint}/`))
              : proxy.tunnels();
          expect(through.length, variable).to.be.above(0);
          expect(proxy.requests.length, variable).to.equal(through.length);
          if (variable === 'HTTP_PROXY') expect(store.requests.length).to.equal(through.length);
          expect(
            Buffer.compare(
              await store.download('logs', `packaged/proxied/2024/01/05/${name}`),
              await fs.readFile(path.join(archive, name)),
            ),
          ).to.equal(0);
        }
      } finally {
        await proxy.close();
        await secure.close();
      }
    });

    it('reports to Sentry with the @sentry/node it carries', async () => {
      const sentry = await startFakeSentry();
      try {
        const result = await run('logjam-compress', ['--once', path.join(work, 'no-such-dir')], {
          env: env({ SENTRY_DSN: sentry.dsn }),
          cwd: work,
        });
        expect(result.code).to.equal(2);
        expect(sentry.events).to.have.length(1);
        expect(sentry.events[0]!.tags).to.include({ binary: 'logjam-compress' });
      } finally {
        await sentry.close();
      }
    });
  },
);

/** Whether this host can run a linux-arm64 Node: qemu-user and the arm64 C and C++ libraries (libc6-arm64-cross, libstdc++6-arm64-cross). */
const QEMU_PREFIX = '/usr/aarch64-linux-gnu';
const canRunArm64 = existsSync('/usr/bin/qemu-aarch64') && existsSync(path.join(QEMU_PREFIX, 'lib/libstdc++.so.6'));

(ENABLED ? describe : describe.skip)('packaged: the self-contained executable, linux-arm64', function () {
  this.timeout(300_000);
  let bin: string;
  before(async () => {
    const unpacked = await tmpDir('logjam-sea-arm64-');
    await exec('tar', ['-xzf', path.join(dist, `logjam-${version}-linux-arm64.tar.gz`), '-C', unpacked]);
    bin = path.join(unpacked, `logjam-${version}-linux-arm64`);
  });
  after(cleanupTmpDirs);

  it('is an arm64 executable', async () => {
    const { stdout } = await exec('file', ['-L', path.join(bin, 'logjam-upload')]);
    expect(stdout).to.match(/ELF 64-bit LSB .*ARM aarch64/);
  });

  (canRunArm64 ? it : it.skip)(
    `runs under qemu-user: --version, and logjam-compress --once on a folder (needs qemu-user and libc6-arm64-cross, libstdc++6-arm64-cross)`,
    async () => {
      const env = { PATH: bin, QEMU_LD_PREFIX: QEMU_PREFIX };
      const v = await run('/usr/bin/qemu-aarch64', [path.join(bin, 'logjam-upload'), '--version'], { env });
      expect(v.stdout.trim(), v.stderr).to.equal(version);
      const logs = await tmpDir('logjam-arm64-logs-');
      await hourlyLog(logs, 'app-20240105T1300Z.log', 'a line\n'.repeat(100));
      const compress = await run('/usr/bin/qemu-aarch64', [path.join(bin, 'logjam-compress'), '--once', logs], { env });
      expect(compress.code, compress.stderr).to.equal(0);
      expect(await ls(path.join(logs, 'archive'))).to.deep.equal(['app-20240105T1300Z.log.gz']);
    },
  );
});

const IS_ROOT = process.getuid?.() === 0;
(ENABLED && IS_ROOT ? describe : describe.skip)(
  'packaged: the .deb installs, upgrades and purges on this machine (root)',
  function () {
    this.timeout(600_000);
    const deb = path.join(dist, `logjam_${version}_${process.arch === 'arm64' ? 'arm64' : 'amd64'}.deb`);
    /** dpkg, waiting while another apt or dpkg holds its lock (other jobs on a CI machine do). */
    async function dpkg(args: string[]): Promise<Ran> {
      for (let attempt = 0; ; attempt++) {
        const result = await run('dpkg', args);
        if (!/lock/i.test(result.stderr) || attempt === 60) return result;
        await new Promise((resolve) => setTimeout(resolve, 5000));
      }
    }
    let logs: string;
    before(async function () {
      // Never replace a logjam the machine has installed for real.
      if ((await run('dpkg-query', ['-W', 'logjam'])).code === 0) this.skip();
      logs = await tmpDir('logjam-deb-logs-');
    });
    after(async () => {
      await dpkg(['--purge', 'logjam']);
      await cleanupTmpDirs();
    });

    it('installs: the commands on PATH, the logjam user, units installed but not enabled, examples and man pages', async () => {
      const install = await dpkg(['-i', deb]);
      expect(install.code, install.stderr).to.equal(0);
      for (const name of ['logjam-compress', 'logjam-upload']) {
        const v = await run(`/usr/bin/${name}`, ['--version'], { env: { PATH: '/usr/bin:/bin' } });
        expect(v.stdout.trim(), v.stderr).to.equal(version);
        expect(existsSync(`/lib/systemd/system/${name}.service`)).to.equal(true);
        expect(existsSync(`/etc/systemd/system/multi-user.target.wants/${name}.service`)).to.equal(false);
        expect(existsSync(`/usr/share/man/man1/${name}.1.gz`)).to.equal(true);
      }
      expect((await run('getent', ['passwd', 'logjam'])).stdout).to.match(/^logjam:x:\d+:\d+:/);
      expect(await ls('/usr/share/doc/logjam/examples')).to.deep.equal(['cron.d', 'runit', 'upstart']);
    });

    it('its logjam-compress archives a folder; installed again (an upgrade) and purged, the archives and markers stay', async () => {
      await hourlyLog(logs, 'app-20240105T1300Z.log', 'a line\n'.repeat(100));
      const compress = await run('/usr/bin/logjam-compress', ['--once', logs], { env: { PATH: '/usr/bin:/bin' } });
      expect(compress.code, compress.stderr).to.equal(0);
      const archive = path.join(logs, 'archive');
      await fs.mkdir(path.join(archive, '.uploaded'), { recursive: true });
      await fs.writeFile(path.join(archive, '.uploaded', 'app-20240105T1300Z.log.gz'), '');
      const before = await fs.readFile(path.join(archive, 'app-20240105T1300Z.log.gz'));

      const again = await dpkg(['-i', deb]);
      expect(again.code, again.stderr).to.equal(0);
      const purge = await dpkg(['--purge', 'logjam']);
      expect(purge.code, purge.stderr).to.equal(0);
      for (const file of [
        '/usr/bin/logjam-compress',
        '/usr/bin/logjam-upload',
        '/usr/lib/logjam',
        '/lib/systemd/system/logjam-upload.service',
        '/usr/share/doc/logjam',
      ])
        expect(existsSync(file), file).to.equal(false);
      expect((await run('dpkg-query', ['-W', 'logjam'])).code).to.not.equal(0);
      expect(Buffer.compare(await fs.readFile(path.join(archive, 'app-20240105T1300Z.log.gz')), before)).to.equal(0);
      expect(await ls(path.join(archive, '.uploaded'))).to.deep.equal(['app-20240105T1300Z.log.gz']);
    });
  },
);
