// compressFile called directly, for what the binary cannot be made to show:
// an archive that does not verify.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createLogger } from '@logjam/core';
import { archiveNames, compressFile } from '../src/compress.ts';
import { crc32, crc32Combine } from '../src/crc32.ts';
import { cleanupTmpDirs, ls, tmpDir } from '../../../test/support/index.ts';

const log = createLogger({ name: 'test', level: 'error', write: () => {} });
const NAME = 'app-20240101T0000Z.log';
const TEXT = Array.from({ length: 5000 }, (_, i) => `line ${i} GET /item/${i * 7} 200\n`).join('');

/** Flips one byte in the middle of the deflate data, past the gzip header. */
async function corrupt(file: string): Promise<void> {
  const data = await fs.readFile(file);
  const at = Math.floor(data.length / 2);
  data[at] = data[at]! ^ 0xff;
  await fs.writeFile(file, data);
}

describe('compressFile', () => {
  afterEach(cleanupTmpDirs);

  async function setup(): Promise<string> {
    const dir = await tmpDir();
    await fs.mkdir(path.join(dir, 'archive'));
    await fs.writeFile(path.join(dir, NAME), TEXT);
    return dir;
  }

  it('refuses an archive that does not verify: the file fails, the source stays, nothing is published', async () => {
    const dir = await setup();
    let error: unknown;
    try {
      await compressFile(dir, NAME, { level: 6, verify: true, log, beforeVerify: corrupt });
    } catch (caught) {
      error = caught;
    }
    expect(error, 'compressFile must throw').to.be.instanceOf(Error);
    expect(await fs.readFile(path.join(dir, NAME), 'utf8')).to.equal(TEXT);
    expect(await ls(path.join(dir, 'archive')), 'no archive, no temporary file').to.deep.equal([]);
  });

  it('(without verification the same corruption would be published: verification is what stops it)', async () => {
    const dir = await setup();
    const outcome = await compressFile(dir, NAME, { level: 6, verify: false, log, beforeVerify: corrupt });
    expect(outcome.kind).to.equal('compressed');
    const published = await fs.readFile(path.join(dir, 'archive', `${NAME}.gz`));
    let intact = false;
    try {
      intact = zlib.gunzipSync(published).toString() === TEXT;
    } catch {
      intact = false;
    }
    expect(intact).to.equal(false);
  });

  it('names the duplicates as the Python tool does, the stamp compact', () => {
    const names = archiveNames('haproxy-2013-07-04T00:00Z-i-1.log');
    expect(names).to.have.length(26);
    expect(names[0]).to.equal('haproxy-2013-07-04T00:00Z-i-1.log.gz');
    expect(names[1]).to.equal('haproxy-logjam-compress-duplicate-timestamp-20130704T0000Z-i-1.log.gz');
    expect(names[2]).to.equal('haproxy-logjam-compress-duplicate-timestamp-01-20130704T0000Z-i-1.log.gz');
    expect(names[25]).to.equal('haproxy-logjam-compress-duplicate-timestamp-24-20130704T0000Z-i-1.log.gz');
    expect(archiveNames('nginx-20130704T0000Z.log')[1]).to.equal(
      'nginx-logjam-compress-duplicate-timestamp-20130704T0000Z.log.gz',
    );
  });

  it('computes CRC-32 as gzip does, in pieces', () => {
    const data = Buffer.from(TEXT);
    const whole = crc32(data);
    const pieces = crc32(data.subarray(1000), crc32(data.subarray(0, 1000)));
    expect(pieces).to.equal(whole);
    // gzip's trailer holds the CRC-32 of the data, little-endian, 8 bytes from the end.
    const gz = zlib.gzipSync(data);
    expect(gz.readUInt32LE(gz.length - 8)).to.equal(whole);
  });
});

describe('compressFile: a file larger than a block', () => {
  afterEach(cleanupTmpDirs);

  // 16 KiB blocks (the test seam) over ~600 KiB of text and random bytes: dozens of blocks, smaller than deflate's 32 KiB window.
  const BLOCK = 16 * 1024;
  const BIG = Buffer.concat([
    Buffer.from(TEXT.repeat(3)),
    Buffer.from(Array.from({ length: 100_003 }, (_, i) => (i * 2654435761) >>> 24)),
  ]);

  async function setup(): Promise<string> {
    const dir = await tmpDir();
    await fs.mkdir(path.join(dir, 'archive'));
    await fs.writeFile(path.join(dir, NAME), BIG);
    return dir;
  }

  /** Where each gzip member of a file ends (its header: 10 bytes, no optional fields, as zlib writes it; its trailer: 8). */
  function memberEnds(gz: Buffer): number[] {
    const ends: number[] = [];
    for (let at = 0; at < gz.length;) {
      expect([gz[at], gz[at + 1], gz[at + 3]], 'a gzip header without optional fields').to.deep.equal([0x1f, 0x8b, 0]);
      // Raw inflate stops at the end of the deflate stream: what it consumed is the member's body.
      const { engine } = zlib.inflateRawSync(gz.subarray(at + 10), { info: true }) as unknown as {
        engine: { bytesWritten: number };
      };
      at += 10 + engine.bytesWritten + 8;
      ends.push(at);
    }
    return ends;
  }
  const members = (gz: Buffer) => memberEnds(gz).length;

  it('writes one gzip member, its blocks primed with the 32 KiB before them, that gunzip, zcat and Node read back byte for byte', async () => {
    const dir = await setup();
    const outcome = await compressFile(dir, NAME, { level: 6, verify: true, log, blockSize: BLOCK });
    expect(outcome.kind).to.equal('compressed');
    const file = path.join(dir, 'archive', `${NAME}.gz`);
    const gz = await fs.readFile(file);
    expect(zlib.gunzipSync(gz).equals(BIG), 'zlib.gunzipSync').to.equal(true);
    const streamed: Buffer[] = [];
    for await (const chunk of (await fs.open(file)).createReadStream().pipe(zlib.createGunzip()))
      streamed.push(chunk as Buffer);
    expect(Buffer.concat(streamed).equals(BIG), 'zlib.createGunzip').to.equal(true);
    const zcat = spawnSync('gzip', ['-dc', file], { maxBuffer: 64 * 1024 * 1024 });
    expect(zcat.status, 'gzip -dc').to.equal(0);
    expect(zcat.stdout.equals(BIG), 'gzip -dc output').to.equal(true);
    expect(spawnSync('gzip', ['-t', file]).status, 'gzip -t').to.equal(0);
    expect(members(gz)).to.equal(1);
    expect(gz.subarray(0, 10).equals(zlib.gzipSync('', { level: 6 }).subarray(0, 10)), "zlib's own header").to.equal(
      true,
    );
    // Primed with the 32 KiB before it, a block compresses as it would inside one stream (without: about 6% larger here).
    expect(gz.length, 'within 1% of zlib compressing the whole file as one stream').to.be.at.most(
      Math.ceil(zlib.gzipSync(BIG, { level: 6 }).length * 1.01),
    );
  });

  it('ends a file of whole blocks with an empty final block, still one member', async () => {
    const dir = await tmpDir();
    await fs.mkdir(path.join(dir, 'archive'));
    const whole = BIG.subarray(0, 4 * BLOCK);
    await fs.writeFile(path.join(dir, NAME), whole);
    expect((await compressFile(dir, NAME, { level: 6, verify: true, log, blockSize: BLOCK })).kind).to.equal(
      'compressed',
    );
    const gz = await fs.readFile(path.join(dir, 'archive', `${NAME}.gz`));
    expect(zlib.gunzipSync(gz).equals(whole)).to.equal(true);
    expect(members(gz)).to.equal(1);
  });

  it('recognises its own archive as holding the same content (a run killed before deleting the source)', async () => {
    const dir = await setup();
    expect((await compressFile(dir, NAME, { level: 6, verify: true, log, blockSize: BLOCK })).kind).to.equal(
      'compressed',
    );
    const archive = await fs.readFile(path.join(dir, 'archive', `${NAME}.gz`));
    await fs.writeFile(path.join(dir, NAME), BIG);
    const again = await compressFile(dir, NAME, { level: 6, verify: true, log, blockSize: BLOCK });
    expect(again.kind).to.equal('already-archived');
    expect(await ls(dir)).to.deep.equal(['archive']);
    expect(
      (await fs.readFile(path.join(dir, 'archive', `${NAME}.gz`))).equals(archive),
      'the archive untouched',
    ).to.equal(true);
  });

  it('an empty file is one empty gzip member', async () => {
    const dir = await tmpDir();
    await fs.mkdir(path.join(dir, 'archive'));
    await fs.writeFile(path.join(dir, NAME), '');
    expect((await compressFile(dir, NAME, { level: 6, verify: true, log, blockSize: BLOCK })).kind).to.equal(
      'compressed',
    );
    const gz = await fs.readFile(path.join(dir, 'archive', `${NAME}.gz`));
    expect(zlib.gunzipSync(gz).length).to.equal(0);
    expect(members(gz)).to.equal(1);
  });

  for (const [what, damage] of [
    [
      'a corrupted byte',
      async (file: string) => {
        const data = await fs.readFile(file);
        const at = Math.floor(data.length * 0.7);
        data[at] = data[at]! ^ 0x55;
        await fs.writeFile(file, data);
      },
    ],
    [
      'the same content as two members',
      async (file: string) => {
        // Every byte of the source comes back through gunzip: only the format is wrong, the one strict readers stop at.
        const half = Math.floor(BIG.length / 2);
        await fs.writeFile(
          file,
          Buffer.concat([zlib.gzipSync(BIG.subarray(0, half)), zlib.gzipSync(BIG.subarray(half))]),
        );
      },
    ],
    ['a second member appended', async (file: string) => fs.appendFile(file, zlib.gzipSync('more'))],
    [
      'bytes between the end of the deflate stream and the trailer',
      async (file: string) => {
        // The trailer still matches the content: only the length of the deflate stream tells.
        const data = await fs.readFile(file);
        await fs.writeFile(
          file,
          Buffer.concat([data.subarray(0, data.length - 8), zlib.gzipSync(''), data.subarray(data.length - 8)]),
        );
      },
    ],
    [
      'a wrong CRC-32 in the trailer',
      async (file: string) => {
        const data = await fs.readFile(file);
        data[data.length - 8] = data[data.length - 8]! ^ 1;
        await fs.writeFile(file, data);
      },
    ],
    ['the member cut short', async (file: string) => fs.truncate(file, (await fs.stat(file)).size - 3)],
  ] as const) {
    it(`verification refuses ${what}: the source stays, nothing is published`, async () => {
      const dir = await setup();
      let error: unknown;
      try {
        await compressFile(dir, NAME, { level: 6, verify: true, log, blockSize: BLOCK, beforeVerify: damage });
      } catch (caught) {
        error = caught;
      }
      expect(error, 'compressFile must throw').to.be.instanceOf(Error);
      expect((await fs.readFile(path.join(dir, NAME))).equals(BIG)).to.equal(true);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
    });
  }

  it('combines CRC-32s as zlib does', () => {
    for (const cut of [0, 1, 1000, BIG.length - 1, BIG.length]) {
      expect(crc32Combine(crc32(BIG.subarray(0, cut)), crc32(BIG.subarray(cut)), BIG.length - cut)).to.equal(
        crc32(BIG),
      );
    }
  });
});
