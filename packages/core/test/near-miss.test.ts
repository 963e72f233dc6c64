import { expect } from 'chai';
import { nearMissReason } from '../src/near-miss.ts';

describe('names that look like dated logs but are outside the grammar', () => {
  for (const [name, reason] of [
    ['haproxy-20261205T000000Z.log', /^the stamp has seconds/],
    ['haproxy-20261205T00:00:00Z.log', /^the stamp has seconds/],
    ['haproxy-2026120500.log', /^the stamp has no T and no Z/],
    ['haproxy-20261205T00Z.log', /^the stamp has no minutes/],
    ['haproxy-20261205t0000z.log', /^the stamp's T and Z must be capitals/],
    ['haproxy-20261205T0000.log', /^the stamp has no Z/],
    ['20261205T0000Z.log', /^nothing, or no dash, before the stamp/],
    ['haproxy20261205T0000Z.log', /^nothing, or no dash, before the stamp/],
    ['haproxy-20261205T0000Z', /^no extension/],
    ['haproxy-20261231T2400Z.log', /^no such date or time/],
  ] as const) {
    it(`${name}: ${reason.source.slice(1)}`, () => {
      expect(nearMissReason(name)).to.match(reason);
      expect(nearMissReason(name)).to.include('PREFIX-YYYYMMDDTHHMMZ[-SUFFIX].EXT');
    });
  }

  it('says nothing of log files, of names without a date, or of hidden, temporary and backup files', () => {
    for (const name of [
      'haproxy-20261205T0000Z.log',
      'app-2026-12-05T00:00Z-host.log.gz',
      'notes.txt',
      'core.12345',
      '.haproxy-20261205T000000Z.log',
      'haproxy-20261205T000000Z.log~',
      'x-20261205T000000Z.tmp',
      'build-1234567890.log',
    ]) {
      expect(nearMissReason(name), name).to.equal(undefined);
    }
  });
});
