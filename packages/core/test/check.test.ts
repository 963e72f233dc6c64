import { expect } from 'chai';
import { checkBacklog, formatAge } from '../src/check.ts';

describe('--check verdicts', () => {
  it('formats ages', () => {
    expect(
      [40_000, 12 * 60_000, 120 * 60_000, 185 * 60_000, 24 * 3_600_000, 52 * 3_600_000].map(formatAge),
    ).to.deep.equal(['40s', '12m', '2h', '3h05m', '1d', '2d04h']);
  });

  it('OK when nothing waits or the oldest is younger than the limit, WARNING (1) when older', () => {
    const now = Date.UTC(2024, 0, 5, 15);
    expect(checkBacklog([], { now, maxAgeMs: 7_200_000, waitingFor: 'waiting for upload' })).to.deep.equal({
      code: 0,
      text: 'OK: nothing waiting for upload | files=0 bytes=0B oldest_age=0s;7200\n',
    });
    const items = [
      { file: '/a/new.log', bytes: 1000, since: now - 60_000 },
      { file: '/a/old.log', bytes: 500, since: now - 12 * 60_000 },
    ];
    const ok = checkBacklog(items, { now, maxAgeMs: 7_200_000, waitingFor: 'waiting for compression' });
    expect(ok.code).to.equal(0);
    expect(ok.text.split('\n')[0]).to.equal(
      'OK: 2 files waiting for compression (1.46 KiB), oldest 12m (/a/old.log) | files=2 bytes=1500B oldest_age=720s;7200',
    );
    const late = checkBacklog(items, { now, maxAgeMs: 600_000, waitingFor: 'waiting for compression' });
    expect(late.code).to.equal(1);
    expect(late.text).to.match(
      /^WARNING: 2 files waiting for compression \(1.46 KiB\), oldest 12m > --max-age 10m \(\/a\/old.log\) \|/,
    );
    expect(late.text.trim().split('\n')).to.have.length(3);
  });

  it("--splay: an item within max-age plus the host's splay delay is not late; past it, it is", () => {
    const now = Date.UTC(2024, 0, 5, 15);
    const items = [{ file: '/a/old.log', bytes: 500, since: now - 12 * 60_000 }];
    expect(
      checkBacklog(items, { now, maxAgeMs: 600_000, splayMs: 180_000, waitingFor: 'waiting for upload' }).code,
    ).to.equal(0);
    const late = checkBacklog(items, { now, maxAgeMs: 600_000, splayMs: 60_000, waitingFor: 'waiting for upload' });
    expect(late.code).to.equal(1);
    expect(late.text).to.match(
      /^WARNING: 1 file waiting for upload \(500 B\), oldest 12m > --max-age 10m \+ splay 1m \(\/a\/old.log\) \| .*oldest_age=720s;660$/m,
    );
  });
});
