import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, exists, ls, tmpDir } from '../../../test/support/index.ts';
import {
  listExpired,
  listPending,
  MarkerWriter,
  markerPath,
  PendingScanner,
  readMarkers,
  removeLeftoverMarkerTemps,
  removeUploaded,
} from '../src/ledger.ts';
import { ByteBudget } from '../src/local.ts';
import { sameObject } from '../src/put.ts';

async function archiveDir(files: string[]): Promise<string> {
  const dir = path.join(await tmpDir(), 'archive');
  await fs.mkdir(dir);
  for (const name of files) await fs.writeFile(path.join(dir, name), name);
  return dir;
}

/** Records a marker as a pass does, and waits until it is durable. */
async function writeMarker(dir: string, name: string): Promise<void> {
  await (
    await new MarkerWriter(dir).create(name)
  ).durable;
}

describe('ledger (.uploaded/ markers)', () => {
  afterEach(cleanupTmpDirs);

  it('lists as pending only log names without a marker, never temp, dot or foreign files', async () => {
    const dir = await archiveDir([
      'b-20240105T1300Z.log.gz',
      'a-20240105T1200Z-web1.log.gz',
      'done-20240105T1100Z.log.gz',
      '.logjam-write.123.abc.tmp',
      '.a-20240105T1200Z.log.gz',
      'c-20240105T1300Z.log.gz.tmp',
      'README.txt',
      'bad-20241305T1300Z.log.gz',
    ]);
    await writeMarker(dir, 'done-20240105T1100Z.log.gz');
    expect((await listPending(dir)).map((l) => l.name)).to.deep.equal([
      'a-20240105T1200Z-web1.log.gz',
      'b-20240105T1300Z.log.gz',
    ]);
  });

  it('removes the marker temporary files a killed run left in .uploaded/, and nothing else', async () => {
    const dir = await archiveDir(['a-20240105T1200Z.log.gz']);
    expect(await removeLeftoverMarkerTemps(dir)).to.deep.equal([]);
    await writeMarker(dir, 'a-20240105T1200Z.log.gz');
    // What a SIGKILL between writeFileAtomic's open and rename leaves (found by the crash soak, seed 1120750484).
    await fs.writeFile(path.join(dir, '.uploaded', '.logjam-write.21321.1ae7179544ec.tmp'), '');
    await fs.writeFile(path.join(dir, '.uploaded', '.keep'), '');
    expect(await removeLeftoverMarkerTemps(dir)).to.deep.equal(['.logjam-write.21321.1ae7179544ec.tmp']);
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(['.keep', 'a-20240105T1200Z.log.gz']);
  });

  it('writes an empty marker atomically, leaving no temporary file, and creates .uploaded/ on first use', async () => {
    const dir = await archiveDir(['a-20240105T1200Z.log.gz']);
    expect(await readMarkers(dir)).to.have.property('size', 0);
    await writeMarker(dir, 'a-20240105T1200Z.log.gz');
    await writeMarker(dir, 'a-20240105T1200Z.log.gz');
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(['a-20240105T1200Z.log.gz']);
    expect((await fs.stat(markerPath(dir, 'a-20240105T1200Z.log.gz'))).size).to.equal(0);
    expect(await listPending(dir)).to.deep.equal([]);
  });

  it('MarkerWriter: markers written concurrently share folder fsyncs; each exists, empty, when its write resolves', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `a-20240105T${String(i % 24).padStart(2, '0')}00Z-${i}.log.gz`);
    const dir = await archiveDir(names);
    const writer = new MarkerWriter(dir);
    await Promise.all(
      names.map(async (name) => {
        await (
          await writer.create(name)
        ).durable;
        expect((await fs.stat(markerPath(dir, name))).size).to.equal(0);
      }),
    );
    await (
      await writer.create(names[0]!)
    ).durable;
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal([...names].sort());
    expect(await listPending(dir)).to.deep.equal([]);
  });

  it('MarkerWriter.create: the marker exists when it resolves, before its fsync; a name held by a link becomes an empty marker, the target untouched', async () => {
    const names = ['a-20240105T1200Z.log.gz', 'b-20240105T1300Z.log.gz'];
    const dir = await archiveDir(names);
    const writer = new MarkerWriter(dir);
    const { durable } = await writer.create(names[0]!);
    expect((await fs.stat(markerPath(dir, names[0]!))).size).to.equal(0);
    await durable;
    // Something already holds the second name: a link to a file that must not be truncated or followed.
    const target = path.join(await tmpDir(), 'precious.txt');
    await fs.writeFile(target, 'keep me\n');
    await fs.symlink(target, markerPath(dir, names[1]!));
    await (
      await writer.create(names[1]!)
    ).durable;
    const marker = await fs.lstat(markerPath(dir, names[1]!));
    expect(marker.isFile() && marker.size).to.equal(0);
    expect(await fs.readFile(target, 'utf8')).to.equal('keep me\n');
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(names);
    expect(await listPending(dir)).to.deep.equal([]);
  });

  it('PendingScanner: an idle, unchanged folder is not read again; a new archive or a removed marker is seen at once', async () => {
    const dir = await archiveDir(['a-20240105T1200Z.log.gz', 'b-20240105T1300Z.log.gz']);
    await writeMarker(dir, 'a-20240105T1200Z.log.gz');
    await writeMarker(dir, 'b-20240105T1300Z.log.gz');
    // Folder mtimes put well in the past before each scan that may remember them, so that
    // the change that follows is always visible, whatever the file system's timestamp granularity.
    const settled = new Date(Date.now() - 60_000);
    const settle = async () => {
      await fs.utimes(path.join(dir, '.uploaded'), settled, settled);
      await fs.utimes(dir, settled, settled);
    };
    await settle();
    const readdir = fs.readdir;
    let reads = 0;
    (fs as { readdir: unknown }).readdir = (...args: Parameters<typeof fs.readdir>) => ((reads += 1), readdir(...args));
    try {
      // Every stamp trusted at once (ctime cannot be put back): the test does not wait.
      const scanner = new PendingScanner(dir, -Infinity);
      expect(await scanner.list()).to.deep.equal([]);
      expect(reads).to.equal(2);
      expect(await scanner.list()).to.deep.equal([]);
      expect(await scanner.list()).to.deep.equal([]);
      expect(reads).to.equal(2);
      // A new archive appears: its folder's times change.
      await fs.writeFile(path.join(dir, 'c-20240105T1400Z.log.gz'), 'c');
      expect((await scanner.list()).map((l) => l.name)).to.deep.equal(['c-20240105T1400Z.log.gz']);
      // Pending files are listed on every pass (a failed upload is retried).
      expect((await scanner.list()).map((l) => l.name)).to.deep.equal(['c-20240105T1400Z.log.gz']);
      await writeMarker(dir, 'c-20240105T1400Z.log.gz');
      await settle();
      expect(await scanner.list()).to.deep.equal([]);
      // A marker removed by hand: the file is pending again.
      await fs.rm(markerPath(dir, 'a-20240105T1200Z.log.gz'));
      expect((await scanner.list()).map((l) => l.name)).to.deep.equal(['a-20240105T1200Z.log.gz']);
    } finally {
      (fs as { readdir: unknown }).readdir = readdir;
    }
  });

  it('finds markers older than an age and removes the archive, then the marker', async () => {
    const dir = await archiveDir(['old-20240105T1200Z.log.gz', 'new-20240105T1200Z.log.gz']);
    await writeMarker(dir, 'old-20240105T1200Z.log.gz');
    await writeMarker(dir, 'new-20240105T1200Z.log.gz');
    await writeMarker(dir, 'orphan-20240105T1200Z.log.gz');
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000);
    await fs.utimes(markerPath(dir, 'old-20240105T1200Z.log.gz'), tenDaysAgo, tenDaysAgo);
    await fs.utimes(markerPath(dir, 'orphan-20240105T1200Z.log.gz'), tenDaysAgo, tenDaysAgo);
    const expired = await listExpired(dir, 7 * 86_400_000);
    expect(expired.map((e) => e.name)).to.deep.equal(['old-20240105T1200Z.log.gz', 'orphan-20240105T1200Z.log.gz']);
    expect(await removeUploaded(dir, 'old-20240105T1200Z.log.gz')).to.deep.equal({ archiveRemoved: true });
    expect(await removeUploaded(dir, 'orphan-20240105T1200Z.log.gz')).to.deep.equal({ archiveRemoved: false });
    expect(await ls(dir)).to.deep.equal(['.uploaded', 'new-20240105T1200Z.log.gz']);
    expect(await ls(path.join(dir, '.uploaded'))).to.deep.equal(['new-20240105T1200Z.log.gz']);
    expect(await exists(path.join(dir, '.uploaded', 'old-20240105T1200Z.log.gz'))).to.equal(false);
  });
});

describe('sameObject (HEAD compared with the local file)', () => {
  const local = { size: 3, md5: '900150983cd24fb0d6963f7d28e17f72' };
  it('trusts our MD5 metadata (multipart ETags are no MD5) and the size', () => {
    expect(sameObject({ ContentLength: 3, ETag: '"abc-2"', Metadata: { 'logjam-md5': local.md5 } }, local)).to.equal(
      true,
    );
    expect(
      sameObject({ ContentLength: 3, ETag: `"${local.md5}"`, Metadata: { 'logjam-md5': 'f'.repeat(32) } }, local),
    ).to.equal(false);
    expect(sameObject({ ContentLength: 4, Metadata: { 'logjam-md5': local.md5 } }, local)).to.equal(false);
  });
  it("falls back to a single-part ETag for objects without metadata (the Python tool's)", () => {
    expect(sameObject({ ContentLength: 3, ETag: `"${local.md5}"` }, local)).to.equal(true);
    expect(sameObject({ ContentLength: 3, ETag: '"abc-2"' }, local)).to.equal(false);
  });
});

describe('ByteBudget (file bodies in memory across jobs)', () => {
  it('holds a request that would exceed the limit until enough is released; one request always proceeds', async () => {
    const budget = new ByteBudget(10);
    const events: string[] = [];
    const a = await budget.acquire(6);
    const b = budget.acquire(6).then((release) => (events.push('b'), release));
    const c = budget.acquire(3).then((release) => (events.push('c'), release));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).to.deep.equal(['c']);
    a();
    a(); // a second release is a no-op
    const releaseB = await b;
    expect(events).to.deep.equal(['c', 'b']);
    (await c)();
    releaseB();
    // Larger than the whole budget: proceeds alone.
    const huge = await budget.acquire(50);
    const after = budget.acquire(1).then(() => events.push('after'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).to.not.include('after');
    huge();
    await after;
  });
});
