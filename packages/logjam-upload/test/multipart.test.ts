import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { MIN_PART_SIZE, PartHasher, partSizeFor } from '../src/multipart.ts';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('multipart plan', () => {
  it('goes multipart from the threshold on, with parts of --part-size, never above the threshold, never under 5 MiB, never more than 10,000', () => {
    const MiB = 1024 * 1024;
    expect(partSizeFor(200 * MiB - 1, { multipartThreshold: 200 * MiB, partSize: 8 * MiB })).to.equal(null);
    expect(partSizeFor(200 * MiB, { multipartThreshold: 200 * MiB, partSize: 8 * MiB })).to.equal(8 * MiB);
    expect(partSizeFor(11 * MiB, { multipartThreshold: 5 * MiB, partSize: 8 * MiB })).to.equal(5 * MiB);
    expect(partSizeFor(6 * MiB, { multipartThreshold: 5 * MiB, partSize: 1 * MiB })).to.equal(MIN_PART_SIZE);
    expect(partSizeFor(100_000 * MiB, { multipartThreshold: 200 * MiB, partSize: 8 * MiB })).to.equal(10 * MiB);
  });

  it('PartHasher: the MD5 of each part, whatever the chunks it is fed', () => {
    const bytes = Buffer.alloc(2500);
    for (let i = 0; i < bytes.length; i += 1) bytes[i] = (i * 31) & 0xff;
    const expected = [md5(bytes.subarray(0, 1000)), md5(bytes.subarray(1000, 2000)), md5(bytes.subarray(2000))];
    for (const chunk of [1, 7, 999, 1000, 1001, 2500]) {
      const hasher = new PartHasher(1000);
      for (let i = 0; i < bytes.length; i += chunk) hasher.update(bytes.subarray(i, i + chunk));
      expect(hasher.digest(), `chunks of ${chunk}`).to.deep.equal(expected);
    }
    // A file that ends on a part boundary has no empty last part; an empty one has one empty part.
    const exact = new PartHasher(1250);
    exact.update(bytes);
    expect(exact.digest()).to.deep.equal([md5(bytes.subarray(0, 1250)), md5(bytes.subarray(1250))]);
    expect(new PartHasher(1000).digest()).to.deep.equal([md5(Buffer.alloc(0))]);
  });
});
