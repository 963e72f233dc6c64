// What an operator does: pack the two binaries, `npm install -g` the tarballs
// into an empty prefix, and run them from its bin/ with nothing else installed
// by hand. @logjam/core travels inside each binary (bundled at build time).
// Slow: npm installs the binaries' dependencies (from its cache when it can).
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanupTmpDirs, ls, repoRoot, tmpDir } from './support/index.ts';
import { S3RVER_KEY, S3RVER_SECRET, startS3, type TestS3 } from './support/s3.ts';
import { startFakeSentry } from './support/sentry.ts';
import { canVerifyUnits, verifyUnit } from './support/systemd.ts';
import { manPage } from '../scripts/man.mjs';

const run = promisify(execFile);
const TEST_ONLY = ['mocha', 'chai', 's3rver', 'tsx', 'typescript', 'esbuild', 'fast-check', '@logjam/core'];

describe('npm install -g from the packed tarballs (slow)', function () {
  this.timeout(300_000);
  this.slow(60_000);
  let root: string;
  let prefix: string;
  let tarballs: string[];
  let s3: TestS3;

  before(async () => {
    const packDir = await tmpDir('logjam-pack-');
    // Under a root of its own, at /usr/local as on a host: the shipped units are checked against it.
    root = await tmpDir('logjam-root-');
    prefix = path.join(root, 'usr/local');
    const packed = await run(
      'npm',
      ['pack', '-w', 'logjam-compress', '-w', 'logjam-upload', '--pack-destination', packDir, '--json'],
      { cwd: repoRoot },
    );
    tarballs = (JSON.parse(packed.stdout) as Array<{ filename: string }>).map((p) => path.join(packDir, p.filename));
    expect(tarballs).to.have.length(2);
    await run(
      'npm',
      ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', ...tarballs],
      { cwd: packDir, maxBuffer: 16 << 20 },
    );
    s3 = await startS3({ buckets: ['logs'] });
  });
  after(async () => {
    await s3?.close();
    await cleanupTmpDirs();
  });

  const bin = (name: string) => path.join(prefix, 'bin', name);
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: process.env.PATH, HOME: prefix, ...extra });

  it('ships only the launcher, the bundle and package.json, and no test-only dependency', async () => {
    for (const tarball of tarballs) {
      const { stdout: list } = await run('tar', ['-tzf', tarball]);
      const files = list.trim().split('\n').sort();
      const name = /logjam-(compress|upload)-[^/]*\.tgz$/.exec(tarball)![0].replace(/-[^-]*$/, '');
      // logjam-upload also carries the AWS SDK, bundled into chunks that only a pass talking to S3 loads.
      const shipped = files.filter((f) => !/^package\/(package\.json|README[^/]*|LICENSE[^/]*)$/.test(f));
      expect(
        shipped.filter((f) => !/^package\/bin\/sdk-[A-Z0-9]+\.mjs$/.test(f)),
        tarball,
      ).to.deep.equal(
        name === 'logjam-upload'
          ? [
              'package/bin/digest-worker.mjs',
              `package/bin/${name}.cjs`,
              `package/bin/${name}.mjs`,
              `package/man/${name}.1`,
            ]
          : [`package/bin/${name}.cjs`, `package/bin/${name}.mjs`, `package/man/${name}.1`],
      );
      expect(shipped.length > 3, tarball).to.equal(name === 'logjam-upload');
      const manifest = JSON.parse((await run('tar', ['-xzOf', tarball, 'package/package.json'])).stdout) as {
        dependencies?: Record<string, string>;
      };
      for (const dep of TEST_ONLY) expect(manifest.dependencies ?? {}, `${tarball}: ${dep}`).not.to.have.property(dep);
      // The SDK and the command-line parser are bundled: npm installs none of their packages.
      expect(
        Object.keys(manifest.dependencies ?? {}).filter((dep) =>
          /^(@(aws-sdk|smithy)\/|clipanion$|typanion$)/.test(dep),
        ),
        tarball,
      ).to.deep.equal([]);
    }
    const installed = await ls(path.join(prefix, 'lib/node_modules'));
    expect(installed).to.deep.equal(['logjam-compress', 'logjam-upload']);
    const uploadModules = await ls(path.join(prefix, 'lib/node_modules/logjam-upload/node_modules'));
    // npm installed the runtime dependency, and nothing that is bundled.
    expect(uploadModules).to.include('@sentry');
    for (const bundled of ['@aws-sdk', '@smithy', 'clipanion', 'typanion'])
      expect(uploadModules).not.to.include(bundled);
  });

  it('puts both binaries on PATH: --help and --version work', async () => {
    for (const name of ['logjam-compress', 'logjam-upload']) {
      const help = await run(bin(name), ['--help'], { env: env() });
      expect(help.stdout).to.include(name).and.to.include('LOGJAM_');
      const version = await run(bin(name), ['--version'], { env: env() });
      expect(version.stdout.trim()).to.equal('0.1.0');
    }
  });

  it('installs the man pages (package.json `man`), the same text the .deb ships: man finds them under the prefix', async () => {
    for (const name of ['logjam-compress', 'logjam-upload']) {
      const installed = path.join(prefix, 'share/man/man1', `${name}.1`);
      const page = await fs.readFile(installed, 'utf8');
      const help = (await run(bin(name), ['--help'], { env: env() })).stdout;
      expect(page).to.match(new RegExp(`^\\.TH ${name.toUpperCase()} 1 `));
      expect(page, 'the page is made by the function the .deb uses').to.equal(
        manPage(name, help, '0.1.0', /^\.TH \S+ 1 "([^"]+)"/.exec(page)![1]!),
      );
      const found = await run('man', ['-w', name], {
        env: { ...env(), MANPATH: path.join(prefix, 'share/man') },
      }).catch(() => null);
      if (found) expect(await fs.realpath(found.stdout.trim())).to.equal(await fs.realpath(installed));
    }
  });

  it("the repository's systemd units run what it installed: systemd-analyze verify --root finds no problem", async function () {
    if (!canVerifyUnits) this.skip();
    const units = path.join(root, 'etc/systemd/system');
    await fs.cp(path.join(repoRoot, 'systemd'), units, { recursive: true });
    for (const name of ['logjam-compress', 'logjam-upload'])
      expect(await verifyUnit(root, path.join(units, `${name}.service`)), name).to.deep.equal([]);
  });

  it('does a real pass: logjam-compress --once, then logjam-upload --once to S3', async () => {
    const logDir = await tmpDir('logjam-installed-');
    const name = 'app-20240105T1300Z.log';
    await fs.writeFile(path.join(logDir, name), 'a line\n'.repeat(100));
    const old = Date.now() / 1000 - 3600;
    await fs.utimes(path.join(logDir, name), old, old);
    await run(bin('logjam-compress'), ['--once', logDir], { env: env() });
    expect(await ls(path.join(logDir, 'archive'))).to.deep.equal([`${name}.gz`]);
    // An archive over 1 MB, whose MD5 the installed digest worker computes.
    const big = `big-20240105T1300Z.log.gz`;
    await fs.writeFile(path.join(logDir, 'archive', big), Buffer.alloc(2 * 1024 * 1024 + 3, 7));

    const upload = await run(
      bin('logjam-upload'),
      [
        '--once',
        '--endpoint-url',
        s3.endpoint,
        '--force-path-style',
        path.join(logDir, 'archive'),
        's3://logs/installed/{prefix}/{year}/{month}/{day}/{filename}',
      ],
      { env: env({ AWS_ACCESS_KEY_ID: S3RVER_KEY, AWS_SECRET_ACCESS_KEY: S3RVER_SECRET, AWS_REGION: 'us-east-1' }) },
    );
    expect(upload.stderr).to.match(/pass done pending=2 uploaded=2/);
    expect(upload.stderr).not.to.match(/digest worker is unavailable/);
    expect(await s3.keys('logs')).to.deep.equal([
      `installed/app/2024/01/05/${name}.gz`,
      'installed/big/2024/01/05/big-20240105T1300Z.log.gz',
    ]);
  });

  it('reports to Sentry with the @sentry/node it installed', async () => {
    const sentry = await startFakeSentry();
    try {
      const result = await run(bin('logjam-compress'), ['--once', `${prefix}/no-such-dir`], {
        env: env({ SENTRY_DSN: sentry.dsn }),
      }).catch((error: { code: number; stderr: string }) => error);
      expect((result as { code?: number }).code).to.equal(2);
      expect(sentry.events).to.have.length(1);
      expect(sentry.events[0]!.tags).to.include({ binary: 'logjam-compress' });
    } finally {
      await sentry.close();
    }
  });
});
