// --audit's pure decisions about one object (audit-object.ts): the size
// verdict and the part sizes tried for a multipart ETag. (What the binary does
// against a store: audit.integration.test.ts.)
import { expect } from 'chai';
import { candidatePartSizes, compareSize } from '../src/audit-object.ts';
import { partSizeFor } from '../src/multipart.ts';

const MiB = 1024 * 1024;

describe('--audit decisions about one object', () => {
  it('calls fewer bytes in S3 truncated, more bytes different, and leaves equal sizes to the ETag', () => {
    expect(compareSize(100, 1250)).to.deep.equal({
      same: false,
      kind: 'truncated',
      detail: '100 bytes in S3, 1250 in the archive',
    });
    expect(compareSize(1300, 1250)).to.deep.equal({
      same: false,
      kind: 'different',
      detail: '1300 bytes in S3, 1250 in the archive',
    });
    expect(compareSize(1250, 1250)).to.equal(null);
    expect(compareSize(undefined, 1250)).to.equal(null);
  });

  it("tries logjam's part size at the settings given, at its defaults and at the smallest threshold, then other tools'", () => {
    const size = 300 * MiB;
    const settings = { multipartThreshold: 64 * MiB, partSize: 32 * MiB };
    const sizes = candidatePartSizes(size, settings);
    expect(sizes[0]).to.equal(partSizeFor(size, settings));
    expect(sizes).to.include(partSizeFor(size, { multipartThreshold: 200 * MiB, partSize: 8 * MiB }));
    expect(sizes).to.include.members([5 * MiB, 8 * MiB, 16 * MiB]);
    expect(new Set(sizes).size).to.equal(sizes.length);
    // A file below the threshold given was still uploaded multipart by a lower one: its part size is tried.
    expect(candidatePartSizes(13 * MiB, { multipartThreshold: 200 * MiB, partSize: 6 * MiB })).to.include(6 * MiB);
    // 10,000 parts at most: a huge file's part size grows, as the upload's did.
    expect(candidatePartSizes(100_000 * MiB, { multipartThreshold: 200 * MiB, partSize: 8 * MiB })[0]).to.equal(
      Math.ceil((100_000 * MiB) / 10_000),
    );
  });
});
