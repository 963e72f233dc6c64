// --format zstd, compressFile called directly: one frame, checked by the
// verification against every damage it must refuse. Needs zstd in Node's
// zlib (22.15 / 23.8 and later): on an older Node these tests skip with a
// line, and compress-cli.integration.test.ts proves the binary's refusal there.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createLogger } from '@logjam/core';
import { compressFile } from '../src/compress.ts';
import { parseFormat } from '../src/format-option.ts';
import { hasZstd, noZstdMessage, zstdDecompressor, zstdWorkers } from '../src/zstd-frame.ts';
import { HeldSource, RoundTrip } from '../src/zstd-round-trip.ts';
import { checkFrames, ZstdFrames } from '../src/zstd-structure.ts';
import { cleanupTmpDirs, ls, patternedBytes, tmpDir } from '../../../test/support/index.ts';

const log = createLogger({ name: 'test', level: 'error', write: () => {} });
const NAME = 'app-20240101T0000Z.log';
const TEXT = Buffer.from(
  Array.from({ length: 60_000 }, (_, i) => `line ${i} GET /item/${(i * 2654435761) % 1000003} 200 ${i % 5000}\n`).join(
    '',
  ),
);
/** Text and random bytes, about 3 MB: several of zstd's blocks (128 KiB). */
const BIG = Buffer.concat([TEXT, patternedBytes(1_000_003)]);
const MAX_WINDOW = 8 * 1024 * 1024;

type Zstd = {
  zstdCompressSync(data: Buffer, options?: { params: Record<number, number> }): Buffer;
  zstdDecompressSync(data: Buffer): Buffer;
};
const zstd = zlib as unknown as Zstd;
const param = (name: string) => (zlib.constants as unknown as Record<string, number>)[name]!;

function walk(data: Buffer, chunk = 7_001): ZstdFrames {
  const frames = new ZstdFrames();
  for (let at = 0; at < data.length; at += chunk) frames.push(data.subarray(at, at + chunk));
  return frames;
}

describe('--format zstd: choices that need no zstd', () => {
  it('parses --format and --level by format: gzip 1-9 (6), zstd 1-19 (3)', () => {
    expect(parseFormat('gzip', undefined, true)).to.deep.equal({ format: 'gzip', level: 6 });
    expect(parseFormat('zstd', undefined, true)).to.deep.equal({ format: 'zstd', level: 3 });
    expect(parseFormat('zstd', '19', true)).to.deep.equal({ format: 'zstd', level: 19 });
    expect(() => parseFormat('zstd', '20', true)).to.throw(/--level \(zstd\) takes a whole number from 1 to 19/);
    expect(() => parseFormat('gzip', '10', true)).to.throw(/from 1 to 9/);
    expect(() => parseFormat('xz', undefined, true)).to.throw(/--format takes gzip or zstd, not 'xz'/);
  });

  it('refuses zstd on a Node without it, naming the Node and the two ways to get it', () => {
    expect(() => parseFormat('zstd', undefined, false, 'v20.19.0')).to.throw(noZstdMessage('v20.19.0'));
    expect(noZstdMessage('v20.19.0'))
      .to.match(/Node v20\.19\.0/)
      .and.match(/Node 22\.15 or later/)
      .and.match(/executable or the \.deb/);
    expect(parseFormat('gzip', undefined, false)).to.deep.equal({ format: 'gzip', level: 6 });
  });

  it('walks a zstd file (made by the zstd CLI): its frames, window, checksum and end', () => {
    const cli = (args: string[], input: Buffer) => {
      const made = spawnSync('zstd', ['-q', '-c', ...args], { input, maxBuffer: 64 * 1024 * 1024 });
      expect(made.status, String(made.stderr)).to.equal(0);
      return made.stdout;
    };
    const one = cli([], BIG);
    expect(checkFrames(walk(one), one.length, MAX_WINDOW)).to.equal(undefined);
    expect(walk(one).frames).to.have.length(1);
    expect(checkFrames(walk(Buffer.concat([one, one])), 2 * one.length, MAX_WINDOW)).to.match(/2 zstd frames/);
    expect(checkFrames(walk(one.subarray(0, -1)), one.length - 1, MAX_WINDOW)).to.match(/ends at byte/);
    const plain = cli(['--no-check'], BIG);
    expect(checkFrames(walk(plain), plain.length, MAX_WINDOW)).to.match(/no content checksum/);
    // A window over 8 MiB: what long-distance mode (or --ultra levels) makes.
    const wide = cli(['--long=24'], Buffer.concat([BIG, BIG, BIG, BIG]));
    expect(checkFrames(walk(wide), wide.length, MAX_WINDOW)).to.match(/window is 16777216 bytes, more than 8388608/);
    expect(checkFrames(walk(Buffer.from('not zstd')), 8, MAX_WINDOW)).to.match(/no zstd frame at byte 0/);
  });

  it('shares the cores among the files compressed at once', () => {
    expect(zstdWorkers(2, 1)).to.equal(2);
    expect(zstdWorkers(2, 8)).to.equal(1);
    expect(zstdWorkers(8, 3)).to.equal(3);
    expect(zstdWorkers(1, 0)).to.equal(1);
  });
});

describe('--format zstd: one frame, verified', function () {
  before(function () {
    if (!hasZstd()) {
      console.log(`      skipped: Node ${process.version} has no zstd in zlib (22.15 / 23.8 and later have)`);
      this.skip();
    }
  });
  afterEach(cleanupTmpDirs);

  async function setup(content: Buffer = BIG): Promise<string> {
    const dir = await tmpDir();
    await fs.mkdir(path.join(dir, 'archive'));
    await fs.writeFile(path.join(dir, NAME), content);
    return dir;
  }

  it('writes NAME.zst, one frame with a checksum, that the zstd CLI decompresses to the exact bytes', async () => {
    const dir = await setup();
    const outcome = await compressFile(dir, NAME, { level: 3, format: 'zstd', workers: 2, verify: true, log });
    expect(outcome.kind).to.equal('compressed');
    expect(await ls(dir)).to.deep.equal(['archive']);
    const file = path.join(dir, 'archive', `${NAME}.zst`);
    const cli = spawnSync('zstd', ['-dc', file], { maxBuffer: 64 * 1024 * 1024 });
    expect(cli.status, String(cli.stderr)).to.equal(0);
    expect(cli.stdout.equals(BIG)).to.equal(true);
    const data = await fs.readFile(file);
    expect(checkFrames(walk(data), data.length, MAX_WINDOW)).to.equal(undefined);
  });

  it('recognises its own .zst archive as holding the same content', async () => {
    const dir = await setup();
    expect((await compressFile(dir, NAME, { level: 3, format: 'zstd', verify: true, log })).kind).to.equal(
      'compressed',
    );
    await fs.writeFile(path.join(dir, NAME), BIG);
    expect((await compressFile(dir, NAME, { level: 3, format: 'zstd', verify: true, log })).kind).to.equal(
      'already-archived',
    );
    expect(await ls(path.join(dir, 'archive'))).to.deep.equal([`${NAME}.zst`]);
  });

  it('an empty file is one empty frame', async () => {
    const dir = await setup(Buffer.alloc(0));
    expect((await compressFile(dir, NAME, { level: 3, format: 'zstd', verify: true, log })).kind).to.equal(
      'compressed',
    );
    expect(zstd.zstdDecompressSync(await fs.readFile(path.join(dir, 'archive', `${NAME}.zst`))).length).to.equal(0);
  });

  for (const [what, damage] of [
    [
      'a corrupted byte',
      async (file: string) => {
        const data = await fs.readFile(file);
        const at = Math.floor(data.length * 0.6);
        data[at] = data[at]! ^ 0x55;
        await fs.writeFile(file, data);
      },
    ],
    ['the frame cut short', async (file: string) => fs.truncate(file, (await fs.stat(file)).size - 3)],
    [
      'a second frame appended',
      async (file: string) => fs.appendFile(file, zstd.zstdCompressSync(Buffer.from('more'))),
    ],
    [
      'the same content as two frames',
      async (file: string) => {
        const half = Math.floor(BIG.length / 2);
        const frame = (part: Buffer) => zstd.zstdCompressSync(part, { params: { [param('ZSTD_c_checksumFlag')]: 1 } });
        await fs.writeFile(file, Buffer.concat([frame(BIG.subarray(0, half)), frame(BIG.subarray(half))]));
      },
    ],
  ] as const) {
    it(`verification refuses ${what}: the source stays, nothing is published`, async () => {
      const dir = await setup();
      let error: unknown;
      try {
        await compressFile(dir, NAME, { level: 3, format: 'zstd', verify: true, log, beforeVerify: damage });
      } catch (caught) {
        error = caught;
      }
      expect(error, 'compressFile must throw').to.be.instanceOf(Error);
      expect((await fs.readFile(path.join(dir, NAME))).equals(BIG)).to.equal(true);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
    });
  }
});

describe('--format zstd: the round trip while writing', function () {
  before(function () {
    if (!hasZstd()) {
      console.log(`      skipped: Node ${process.version} has no zstd in zlib (22.15 / 23.8 and later have)`);
      this.skip();
    }
  });

  /** BIG as one frame with a checksum (made in the tests: Node 20 has no zstdCompressSync). */
  let FRAME: Buffer;
  before(() => {
    FRAME = zstd.zstdCompressSync(BIG, { params: { [param('ZSTD_c_checksumFlag')]: 1 } });
  });

  /** The round trip of `frame` in pieces of 7,001 bytes, against `source` held in chunks of 100,000. */
  async function roundTrip(frame: Buffer, source: Buffer): Promise<string | undefined> {
    const trip = new RoundTrip(zstdDecompressor());
    try {
      for (let at = 0; at < source.length; at += 100_000) trip.source.hold(source.subarray(at, at + 100_000));
      for (let at = 0; at < frame.length; at += 7_001) await trip.feed(frame.subarray(at, at + 7_001));
      return await trip.end();
    } finally {
      trip.destroy();
    }
  }

  it('frees a held chunk (its buffer read into again) only once all of its bytes are given back', () => {
    const held = new HeldSource();
    const freed: string[] = [];
    held.hold(Buffer.from('abcd'), () => freed.push('abcd'));
    held.hold(Buffer.from('efgh'), () => freed.push('efgh'));
    held.giveBack(Buffer.from('abc'));
    expect(freed).to.deep.equal([]);
    held.giveBack(Buffer.from('defg'));
    expect(freed).to.deep.equal(['abcd']);
    held.giveBack(Buffer.from('h'));
    expect(freed).to.deep.equal(['abcd', 'efgh']);
    expect(held.problem()).to.equal(undefined);
  });

  it('gives back exactly the source held: no problem', async () => {
    expect(await roundTrip(FRAME, BIG)).to.equal(undefined);
  });

  it('finds a byte of the source that the frame does not give back', async () => {
    const other = Buffer.from(BIG);
    other[2_000_000] = other[2_000_000]! ^ 1;
    expect(await roundTrip(FRAME, other)).to.match(/other bytes than the source's, within bytes \d+-\d+/);
  });

  it('finds a frame that gives back less, or more, than the source', async () => {
    expect(await roundTrip(FRAME, Buffer.concat([BIG, Buffer.from('x')]))).to.match(
      /decompresses to \d+ bytes, the source has \d+/,
    );
    expect(await roundTrip(FRAME, BIG.subarray(0, -1))).to.match(/more than the source's/);
  });

  it('refuses a frame cut short, or whose content checksum is wrong', async () => {
    // Node 24's decoder fails a frame cut short at its end; Node 22's ends quietly, short of the source's bytes.
    expect(await roundTrip(FRAME.subarray(0, -5), BIG)).to.match(
      /does not decompress|decompresses to \d+ bytes, the source has \d+/,
    );
    const wrongSum = Buffer.from(FRAME);
    wrongSum[wrongSum.length - 1] = wrongSum[wrongSum.length - 1]! ^ 1;
    expect(await roundTrip(wrongSum, BIG)).to.match(/does not decompress/);
  });
});
