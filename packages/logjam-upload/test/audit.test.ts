// --audit's pure decisions: the size verdict, the part sizes tried for a
// multipart ETag, and the counting and wording of the findings. (What the
// binary does against a store: audit.integration.test.ts.)
import { expect } from 'chai';
import { candidatePartSizes, compareSize } from '../src/audit-object.ts';
import { emptyCounts, findingLine, problems, record, summaryLine } from '../src/audit-report.ts';
import { partSizeFor } from '../src/multipart.ts';

const MiB = 1024 * 1024;

describe('--audit decisions', () => {
  it('calls fewer bytes in S3 truncated, more bytes different, and leaves equal sizes to the ETag', () => {
    expect(compareSize(100, 1250)).to.deep.equal({ same: false, kind: 'truncated', detail: '100 bytes in S3, 1250 in the archive' });
    expect(compareSize(1300, 1250)).to.deep.equal({ same: false, kind: 'different', detail: '1300 bytes in S3, 1250 in the archive' });
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
    expect(candidatePartSizes(100_000 * MiB, { multipartThreshold: 200 * MiB, partSize: 8 * MiB })[0]).to.equal(Math.ceil((100_000 * MiB) / 10_000));
  });

  it('counts every verdict once, prints a line for each but the plainly intact, and fails only on problems', () => {
    const counts = emptyCounts();
    expect(record(counts, { kind: 'intact', key: 'a' })).to.equal(null);
    expect(record(counts, { kind: 'intact', key: 'b-conflict', conflict: 1, detail: 'a conflict copy' })).to.equal('conflict');
    expect(record(counts, { kind: 'removed', key: 'c', detail: 'gone here' })).to.equal('removed');
    expect(problems(counts)).to.equal(0);
    for (const kind of ['missing', 'different', 'truncated', 'unknown'] as const) expect(record(counts, { kind, key: kind, detail: '' })).to.equal(kind);
    expect(counts).to.include({ audited: 7, intact: 2, conflicts: 1, removed: 1, missing: 1, different: 1, truncated: 1, unknown: 1 });
    expect(problems(counts)).to.equal(4);
    expect(summaryLine('text', counts, new Date(0))).to.equal('audited=7 intact=2 missing=1 different=1 truncated=1 unknown=1 conflicts=1 removed=1 pending=0 requests=0\n');
    expect(JSON.parse(summaryLine('json', counts, new Date(0)))).to.deep.include({ kind: 'summary', audited: 7, missing: 1 });
    const finding = { kind: 'missing', file: '/a/archive/x.gz', uri: 's3://b/k', detail: 'no object at its key' };
    expect(findingLine('text', finding, new Date(0))).to.equal('missing /a/archive/x.gz s3://b/k: no object at its key\n');
    expect(JSON.parse(findingLine('json', finding, new Date(0)))).to.deep.equal({ time: '1970-01-01T00:00:00.000Z', ...finding });
  });
});
