import { expect } from 'chai';
import { MIN_PART_SIZE, partSizeFor } from '../src/multipart.ts';

describe('multipart plan', () => {
  it('goes multipart from the threshold on, with parts of --part-size, never above the threshold, never under 5 MiB, never more than 10,000', () => {
    const MiB = 1024 * 1024;
    expect(partSizeFor(200 * MiB - 1, { multipartThreshold: 200 * MiB, partSize: 8 * MiB })).to.equal(null);
    expect(partSizeFor(200 * MiB, { multipartThreshold: 200 * MiB, partSize: 8 * MiB })).to.equal(8 * MiB);
    expect(partSizeFor(11 * MiB, { multipartThreshold: 5 * MiB, partSize: 8 * MiB })).to.equal(5 * MiB);
    expect(partSizeFor(6 * MiB, { multipartThreshold: 5 * MiB, partSize: 1 * MiB })).to.equal(MIN_PART_SIZE);
    expect(partSizeFor(100_000 * MiB, { multipartThreshold: 200 * MiB, partSize: 8 * MiB })).to.equal(10 * MiB);
  });
});
