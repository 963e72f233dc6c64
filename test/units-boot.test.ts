// The systemd units, sandbox and all, started by a real systemd: this machine's
// own root booted in systemd-nspawn (a volatile overlay: nothing it writes
// outlives it; only basic.target, so none of the host's services start), with
// the repository's units in /etc/systemd/system, the built binaries at
// /usr/local/bin as `npm install -g` links them, a log folder of closed logs
// bound at /var/log/hourly and the upload pointed at s3rver on 127.0.0.1.
// As root with systemd-nspawn (Debian's systemd-container) only: skipped with a
// line saying so otherwise.
import { expect } from 'chai';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanupTmpDirs, ls, repoRoot, tmpDir, waitFor } from './support/index.ts';
import { S3RVER_KEY, S3RVER_SECRET, startS3, type TestS3 } from './support/s3.ts';

const exec = promisify(execFile);
const CAN_BOOT =
  process.getuid?.() === 0 &&
  !spawnSync('systemd-nspawn', ['--version']).error &&
  !spawnSync('setpriv', ['--version']).error;
const HOUR = 3_600_000;

(CAN_BOOT ? describe : describe.skip)('the systemd units started by systemd (systemd-nspawn, as root)', function () {
  this.timeout(180_000);
  let s3: TestS3;
  let nspawn: ChildProcess | undefined;
  let leader = 0;
  let logDir: string;
  let metricsDir: string;
  /** Runs a command inside the container. */
  const inside = async (...command: string[]) =>
    (await exec('nsenter', ['-t', String(leader), '-a', ...command], { maxBuffer: 8 << 20 })).stdout;

  /** A closed hourly log, two hours old. */
  async function closedLog(name: string): Promise<void> {
    await fs.writeFile(path.join(logDir, name), `${name}: a line\n`.repeat(5000));
    const old = (Date.now() - 2 * HOUR) / 1000;
    await fs.utimes(path.join(logDir, name), old, old);
  }

  /** Where the container sees this checkout. */
  const CHECKOUT = '/opt/logjam';

  before(async () => {
    s3 = await startS3({ buckets: ['my-log-bucket'] });
    const work = await tmpDir('logjam-boot-');
    const [rootView, prefix] = [path.join(work, 'root'), path.join(work, 'usr-local')];
    logDir = path.join(work, 'hourly');
    metricsDir = path.join(work, 'metrics');
    await Promise.all(
      [rootView, path.join(prefix, 'bin'), logDir, metricsDir].map((dir) => fs.mkdir(dir, { recursive: true })),
    );
    // The checkout is bound at /opt/logjam: where it is on the host may be under /tmp or /root, which the units' PrivateTmp= and ProtectHome= hide.
    for (const name of ['logjam-compress', 'logjam-upload'])
      await fs.symlink(path.join(CHECKOUT, 'packages', name, 'bin', `${name}.cjs`), path.join(prefix, 'bin', name));
    const env = path.join(work, 'logjam-upload.env');
    // LOGJAM_SPLAY=0 (EnvironmentFile= wins over the unit's Environment=): archives that compress links in after
    // the upload's first listing would otherwise wait this host's splay, up to the unit's 600 s, by design.
    await fs.writeFile(
      env,
      `AWS_ACCESS_KEY_ID=${S3RVER_KEY}\nAWS_SECRET_ACCESS_KEY=${S3RVER_SECRET}\nAWS_REGION=us-east-1\nAWS_ENDPOINT_URL_S3=${s3.endpoint}\nLOGJAM_FORCE_PATH_STYLE=1\nLOGJAM_SPLAY=0\n`,
    );
    const binds = [
      `--bind-ro=${prefix}:/usr/local`,
      `--bind-ro=${repoRoot}:${CHECKOUT}`,
      `--bind=${logDir}:/var/log/hourly`,
      `--bind=${metricsDir}:/var/lib/node_exporter/textfile_collector`,
      `--bind-ro=${env}:/etc/default/logjam-upload`,
      ...['logjam-compress', 'logjam-upload'].map(
        (name) => `--bind-ro=${path.join(repoRoot, 'systemd', `${name}.service`)}:/etc/systemd/system/${name}.service`,
      ),
    ];
    // nspawn refuses / itself: a bind of it, in a mount namespace of its own. setpriv: nspawn gets SIGTERM (and halts the container) if this process dies.
    const script = `mount --make-rprivate / && mount --bind / "$1" && shift && exec systemd-nspawn -q --volatile=overlay --register=no --keep-unit -D "$@"`;
    nspawn = spawn(
      'setpriv',
      [
        '--pdeathsig',
        'TERM',
        '--',
        'unshare',
        '-m',
        'sh',
        '-c',
        script,
        'sh',
        rootView,
        rootView,
        ...binds,
        '--boot',
        'systemd.unit=basic.target',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    nspawn.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    nspawn.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => /Reached target .*basic\.target/.test(output), {
      timeoutMs: 90_000,
      what: `the container's basic.target\n${output}`,
    });
    // The container's init: systemd, the child of systemd-nspawn (which setpriv, unshare and sh became by exec).
    leader = await waitFor(async () => {
      const { stdout } = await exec('pgrep', ['-x', 'systemd', '-P', String(nspawn!.pid)]).catch(() => ({
        stdout: '',
      }));
      return Number(stdout.trim().split('\n')[0]) || 0;
    });
    // The user the units run as (as the .deb makes it); already there where the host has it (a host the .deb was installed on).
    await inside(
      'sh',
      '-c',
      'id logjam >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin logjam',
    );
    await inside('chown', '-R', 'logjam:logjam', '/var/log/hourly', '/var/lib/node_exporter/textfile_collector');
    await inside('systemctl', 'daemon-reload');
  });
  after(async () => {
    if (nspawn && nspawn.exitCode === null) {
      nspawn.kill('SIGTERM');
      await new Promise((resolve) => nspawn!.once('exit', resolve));
    }
    await s3?.close();
    await cleanupTmpDirs();
  });

  const active = async (name: string) =>
    (await inside('systemctl', 'is-active', name).catch((error: { stdout?: string }) => error.stdout ?? '')).trim();

  it('upload started first waits for archive/; compress then archives every log and upload ships each, writing markers, in the sandbox', async () => {
    const names = ['app-20240105T0100Z.log', 'app-20240105T0200Z.log', 'app-20240105T0300Z.log'];
    for (const name of names) await closedLog(name);
    await inside('systemctl', 'start', 'logjam-upload');
    await waitFor(
      async () =>
        (await inside('journalctl', '--no-pager', '-u', 'logjam-upload')).includes(
          'does not exist yet; waiting for it',
        ),
      { what: 'the upload service waiting' },
    );
    await inside('systemctl', 'start', 'logjam-compress');
    const uploaded = path.join(logDir, 'archive', '.uploaded');
    await waitFor(async () => (await ls(uploaded).catch(() => [])).length === names.length, {
      timeoutMs: 30_000,
      what: 'the markers',
    }).catch(async (error: Error) => {
      throw new Error(
        `${error.message}\n${await inside('journalctl', '--no-pager', '-u', 'logjam-compress', '-u', 'logjam-upload')}`,
      );
    });
    for (const name of names) {
      const key = `app/2024/01/05/${name}.gz`;
      expect(
        Buffer.compare(
          await s3.download('my-log-bucket', key),
          await fs.readFile(path.join(logDir, 'archive', `${name}.gz`)),
        ),
        key,
      ).to.equal(0);
    }
    expect(await ls(logDir)).to.deep.equal(['.logjam-compress.lock', 'archive']);
    expect([await active('logjam-compress'), await active('logjam-upload')]).to.deep.equal(['active', 'active']);
    // UMask=0027: what the services make themselves is not for others.
    expect((await fs.stat(uploaded)).mode & 0o777).to.equal(0o750);
  });

  it('the sandbox holds: outside ReadWritePaths= the metrics file cannot be written (EROFS); with the line the unit comments, it is', async () => {
    const dropIn = [
      'mkdir -p /run/systemd/system/logjam-upload.service.d',
      'cd /run/systemd/system/logjam-upload.service.d',
    ];
    const metrics = 'Environment=LOGJAM_METRICS_FILE=/var/lib/node_exporter/textfile_collector/logjam_upload.prom';
    await inside(
      'sh',
      '-c',
      [
        ...dropIn,
        `printf '[Service]\\n${metrics}\\n' > metrics.conf`,
        'systemctl daemon-reload',
        'systemctl restart logjam-upload',
      ].join(' && '),
    );
    await waitFor(
      async () => /EROFS|read-only file system/i.test(await inside('journalctl', '--no-pager', '-u', 'logjam-upload')),
      { what: 'the metrics file refused' },
    );
    expect(await ls(metricsDir)).to.deep.equal([]);
    const readWrite = (await fs.readFile(path.join(repoRoot, 'systemd/logjam-upload.service'), 'utf8'))
      .split('\n')
      .find((line) => line === '#ReadWritePaths=/var/lib/node_exporter/textfile_collector')!;
    expect(readWrite, 'the commented line in the unit').to.be.a('string');
    await inside(
      'sh',
      '-c',
      [
        ...dropIn,
        `printf '${readWrite.slice(1)}\\n' >> metrics.conf`,
        'systemctl daemon-reload',
        'systemctl restart logjam-upload',
      ].join(' && '),
    );
    await waitFor(async () => (await ls(metricsDir)).includes('logjam_upload.prom'), { what: 'the metrics file' });
    expect(await active('logjam-upload')).to.equal('active');
  });

  it('systemctl stop: both exit 0 (Result=success)', async () => {
    await inside('systemctl', 'stop', 'logjam-upload', 'logjam-compress');
    for (const name of ['logjam-compress', 'logjam-upload']) {
      expect(await inside('systemctl', 'show', '-p', 'Result', '-p', 'ExecMainStatus', name), name).to.equal(
        'Result=success\nExecMainStatus=0\n',
      );
    }
  });
});
