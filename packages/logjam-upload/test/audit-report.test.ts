// --audit's report (audit-report.ts): the counting and wording of the findings.
import { expect } from 'chai';
import { emptyCounts, findingLine, problems, record, summaryLine } from '../src/audit-report.ts';

describe('--audit report', () => {
  it('counts every verdict once, prints a line for each but the plainly intact, and fails only on problems', () => {
    const counts = emptyCounts();
    expect(record(counts, { kind: 'intact', key: 'a' })).to.equal(null);
    expect(record(counts, { kind: 'intact', key: 'b-conflict', conflict: 1, detail: 'a conflict copy' })).to.equal(
      'conflict',
    );
    expect(record(counts, { kind: 'removed', key: 'c', detail: 'gone here' })).to.equal('removed');
    expect(problems(counts)).to.equal(0);
    for (const kind of ['missing', 'different', 'truncated', 'unknown'] as const)
      expect(record(counts, { kind, key: kind, detail: '' })).to.equal(kind);
    expect(counts).to.include({
      audited: 7,
      intact: 2,
      conflicts: 1,
      removed: 1,
      missing: 1,
      different: 1,
      truncated: 1,
      unknown: 1,
    });
    expect(problems(counts)).to.equal(4);
    expect(summaryLine('text', counts, new Date(0))).to.equal(
      'audited=7 intact=2 missing=1 different=1 truncated=1 unknown=1 conflicts=1 removed=1 pending=0 requests=0\n',
    );
    expect(JSON.parse(summaryLine('json', counts, new Date(0)))).to.deep.include({
      kind: 'summary',
      audited: 7,
      missing: 1,
    });
    const finding = { kind: 'missing', file: '/a/archive/x.gz', uri: 's3://b/k', detail: 'no object at its key' };
    expect(findingLine('text', finding, new Date(0))).to.equal(
      'missing /a/archive/x.gz s3://b/k: no object at its key\n',
    );
    expect(JSON.parse(findingLine('json', finding, new Date(0)))).to.deep.equal({
      time: '1970-01-01T00:00:00.000Z',
      ...finding,
    });
  });
});
