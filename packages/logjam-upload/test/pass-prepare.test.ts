import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, patternedBytes, tmpDir, waitFor } from '../../../test/support/index.ts';
import { listPending, type PendingScanner } from '../src/ledger.ts';
import { MIN_PART_SIZE } from '../src/multipart.ts';
import { closeLocal, WHOLE_FILE_MAX } from '../src/local.ts';
import { PreparedPass } from '../src/pass.ts';

/** The defaults of --multipart-threshold and --part-size. */
const MULTIPART = { multipartThreshold: 200 * 1024 * 1024, partSize: 8 * 1024 * 1024 };

/** This process's descriptors open on files in `dir`, from /proc. */
async function openIn(dir: string): Promise<string[]> {
  const targets = await Promise.all(
    (await fs.readdir('/proc/self/fd')).map((fd) => fs.readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target.startsWith(dir + path.sep)).map((target) => path.basename(target));
}

describe('PreparedPass (reading ahead of the uploads)', () => {
  afterEach(cleanupTmpDirs);

  async function archive(count: number, size = 100): Promise<string> {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    for (let i = 0; i < count; i += 1)
      await fs.writeFile(path.join(dir, `app-20240105T${String(i).padStart(2, '0')}00Z.log.gz`), Buffer.alloc(size, i));
    return dir;
  }

  it('opens at most --jobs files ahead, in order, and closes what was not taken', async () => {
    const dir = await archive(6);
    const prepared = new PreparedPass({ ...MULTIPART, archiveDir: dir, jobs: 2, signal: new AbortController().signal });
    expect(await prepared.pending).to.have.length(6);
    await waitFor(async () => (await openIn(dir)).length === 2, { what: 'two files open' });
    const first = await prepared.take()!;
    expect(first.log.name).to.equal('app-20240105T0000Z.log.gz');
    // Taking one opens the next: still two ahead, plus the one taken (its upload closes it).
    await waitFor(async () => (await openIn(dir)).length === 3, { what: 'the next file opened' });
    expect((await openIn(dir)).sort()).to.deep.equal([
      'app-20240105T0000Z.log.gz',
      'app-20240105T0100Z.log.gz',
      'app-20240105T0200Z.log.gz',
    ]);
    expect(prepared.taken).to.equal(1);
    closeLocal(first.local);
    await prepared.close();
    expect(await openIn(dir)).to.deep.equal([]);
    expect(prepared.take()).to.equal(undefined);
  });

  it('digests a file streamed from disk while reading ahead, and keeps no descriptor of it', async () => {
    const dir = await archive(1, WHOLE_FILE_MAX + 4096);
    const prepared = new PreparedPass({ ...MULTIPART, archiveDir: dir, jobs: 4, signal: new AbortController().signal });
    await prepared.pending;
    const { local } = await prepared.take()!;
    const bytes = await fs.readFile(path.join(dir, local!.log.name));
    expect(local!.size).to.equal(bytes.length);
    expect(local!.md5).to.equal(createHash('md5').update(bytes).digest('hex'));
    expect(local!.fd).to.equal(undefined);
    expect(local!.parts).to.equal(undefined);
    expect(await openIn(dir)).to.deep.equal([]);
    await prepared.close();
  });

  it('takes the MD5 of every part of a file that goes multipart in the same read, at a part size that does not divide the reads', async () => {
    const partSize = MIN_PART_SIZE + 12_345;
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(dir);
    const bytes = patternedBytes(2 * partSize + 777);
    await fs.writeFile(path.join(dir, 'big-20240105T0000Z.log.gz'), bytes);
    const prepared = new PreparedPass({
      multipartThreshold: partSize,
      partSize,
      archiveDir: dir,
      jobs: 1,
      signal: new AbortController().signal,
    });
    await prepared.pending;
    const { local } = await prepared.take()!;
    const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
    expect(local!.md5).to.equal(md5(bytes));
    expect(local!.parts).to.deep.equal({
      size: partSize,
      md5s: [
        md5(bytes.subarray(0, partSize)),
        md5(bytes.subarray(partSize, 2 * partSize)),
        md5(bytes.subarray(2 * partSize)),
      ],
    });
    await prepared.close();
  });

  it('reports a file that vanished after the scan as such, not as an error', async () => {
    const dir = await archive(1);
    const [name] = await fs.readdir(dir);
    // A scan that lists the name, after which the file is removed before it is opened.
    const scanner = {
      list: async () => {
        const list = await listPending(dir);
        await fs.rm(path.join(dir, name!));
        return list;
      },
    } as unknown as PendingScanner;
    const prepared = new PreparedPass({
      ...MULTIPART,
      archiveDir: dir,
      jobs: 1,
      signal: new AbortController().signal,
      scanner,
    });
    await prepared.pending;
    const opened = await prepared.take()!;
    expect(opened.local).to.equal(null);
    expect(opened.error).to.equal(undefined);
    await prepared.close();
  });
});
