// compressFile called directly, for what the binary cannot be made to show:
// an archive that does not verify.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createLogger } from '@logjam/core';
import { archiveNames, compressFile, crc32, crc32Portable } from '../src/compress.js';
import { cleanupTmpDirs, ls, tmpDir } from '../../../test/support/index.js';

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
    expect(archiveNames('nginx-20130704T0000Z.log')[1]).to.equal('nginx-logjam-compress-duplicate-timestamp-20130704T0000Z.log.gz');
  });

  it('computes CRC-32 as gzip does, in pieces', () => {
    const data = Buffer.from(TEXT);
    const whole = crc32(data);
    const pieces = crc32(data.subarray(1000), crc32(data.subarray(0, 1000)));
    expect(pieces).to.equal(whole);
    // gzip's trailer holds the CRC-32 of the data, little-endian, 8 bytes from the end.
    const gz = zlib.gzipSync(data);
    expect(gz.readUInt32LE(gz.length - 8)).to.equal(whole);
    // The fallback for a Node without zlib.crc32 agrees.
    expect(crc32Portable(data.subarray(1000), crc32Portable(data.subarray(0, 1000)))).to.equal(whole);
    expect(crc32Portable(Buffer.alloc(0))).to.equal(0);
  });
});
