// Service mode is woken by inotify on the folders it watches: one watch per
// folder, however many files they hold. (chokidar, which this replaced, put a
// watch on every file: 100,002 for an archive/ of 100,000 uploaded archives,
// past the per-user limit of 8,192 that many kernels still have.)
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, startBin, tmpDir, waitExit, waitFor } from './support/index.ts';
import { imdsEnv } from './support/imds.ts';
import { useS3AndImds } from './support/servers.ts';

const FILES = 3_000;

/** The inotify watches a process holds, from /proc/PID/fdinfo (one `inotify wd:` line per watch). */
async function inotifyWatches(pid: number): Promise<number> {
  let watches = 0;
  for (const fd of await fs.readdir(`/proc/${pid}/fd`)) {
    const target = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target !== 'anon_inode:inotify') continue;
    const info = await fs.readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    watches += info.split('\n').filter((line) => line.startsWith('inotify ')).length;
  }
  return watches;
}

type Child = ReturnType<typeof startBin>;

async function stop(child: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const result = await waitExit(child, 20_000);
  expect(result.code, result.stderr).to.equal(0);
}

describe('service mode watches folders, not files', function () {
  this.timeout(60_000);
  const servers = useS3AndImds({ buckets: ['logs'] });
  const children: Child[] = [];
  afterEach(async () => {
    for (const child of children.splice(0))
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  after(cleanupTmpDirs);

  it(`logjam-upload over an archive/ of ${FILES.toLocaleString('en')} uploaded archives holds one inotify watch, and still wakes for a new archive`, async () => {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(path.join(dir, '.uploaded'), { recursive: true });
    const start = Date.UTC(2020, 0, 1);
    const names = Array.from(
      { length: FILES },
      (_, i) => `app-${new Date(start + i * 3_600_000).toISOString().replace(/[-:]/g, '').slice(0, 13)}Z.log.gz`,
    );
    await Promise.all(names.map((name) => fs.writeFile(path.join(dir, name), 'done')));
    await Promise.all(names.map((name) => fs.writeFile(path.join(dir, '.uploaded', name), '')));
    const home = await tmpDir();
    const template = 's3://logs/watch/{prefix}/{year}/{month}/{day}/{filename}';
    // A long interval: only the watch can make the new archive go up in time.
    const child = startBin(
      'logjam-upload',
      [
        '--interval',
        '3600',
        '--log-level',
        'debug',
        '--endpoint-url',
        servers.s3.endpoint,
        '--force-path-style',
        dir,
        template,
      ],
      {
        cleanEnv: true,
        env: imdsEnv(servers.imds.endpoint, home),
      },
    );
    children.push(child);
    await waitFor(() => /pass done/.test(child.output().stderr), { what: 'the first pass' });
    expect(await inotifyWatches(child.pid!)).to.equal(1);
    await fs.writeFile(path.join(dir, '.new.tmp'), 'a new archive\n');
    await fs.rename(path.join(dir, '.new.tmp'), path.join(dir, 'app-20260101T0000Z.log.gz'));
    await waitFor(() => servers.s3.head('logs', 'watch/app/2026/01/01/app-20260101T0000Z.log.gz'), {
      timeoutMs: 10_000,
      what: 'the new archive in S3',
    });
    expect((await servers.s3.download('logs', 'watch/app/2026/01/01/app-20260101T0000Z.log.gz')).toString()).to.equal(
      'a new archive\n',
    );
    expect(await inotifyWatches(child.pid!)).to.equal(1);
    await stop(child);
  });

  it(`logjam-compress over a LOG_DIR that holds ${FILES.toLocaleString('en')} other files holds one inotify watch, and still wakes for a new log`, async () => {
    const dir = await tmpDir();
    await Promise.all(
      Array.from({ length: FILES }, (_, i) => fs.writeFile(path.join(dir, `other-${i}.txt`), 'not a log')),
    );
    const child = startBin('logjam-compress', ['--min-age', '0', '--interval', '3600', '--log-level', 'debug', dir]);
    children.push(child);
    await waitFor(() => /pass done/.test(child.output().stderr), { what: 'the first pass' });
    expect(await inotifyWatches(child.pid!)).to.equal(1);
    // An hourly file from long ago is due at once: only the watch can wake the service for it.
    await fs.writeFile(path.join(dir, 'app-20240101T0000Z.log'), 'a line\n');
    await waitFor(
      () =>
        fs
          .readdir(path.join(dir, 'archive'))
          .then((names) => names.includes('app-20240101T0000Z.log.gz'))
          .catch(() => false),
      { timeoutMs: 10_000, what: 'the archive' },
    );
    expect(await inotifyWatches(child.pid!)).to.equal(1);
    await stop(child);
  });
});
