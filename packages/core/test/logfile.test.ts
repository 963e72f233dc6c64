import { expect } from 'chai';
import { formatLogName, groupLogNames, parseLogName } from '../src/logfile.ts';
import { compactStamp } from '../../../test/support/index.ts';

describe('log file name grammar', () => {
  it('parses PREFIX-STAMP-SUFFIX.EXTENSION', () => {
    const log = parseLogName('haproxy-20130704T0000Z-us-west-2-i-ae23fega.log');
    expect(log).to.include({
      prefix: 'haproxy',
      stamp: '20130704T0000Z',
      suffix: 'us-west-2-i-ae23fega',
      extension: '.log',
      year: '2013',
      month: '07',
      day: '04',
      hour: '00',
      minute: '00',
    });
    expect(log!.time).to.equal(Date.UTC(2013, 6, 4, 0, 0));
  });

  it('parses a name without a suffix', () => {
    expect(parseLogName('nginx-20130704T1300Z.log')).to.include({ prefix: 'nginx', suffix: '', extension: '.log' });
  });

  it('accepts dashes between date parts and a colon between hour and minute', () => {
    const log = parseLogName('app-2013-07-27T12:00Z.log');
    expect(log).to.include({ stampText: '2013-07-27T12:00Z', stamp: '20130727T1200Z' });
    expect(log!.time).to.equal(Date.UTC(2013, 6, 27, 12, 0));
    expect(parseLogName('app-201307-27T1200Z.log')).to.include({ stamp: '20130727T1200Z' });
  });

  it('lets the prefix hold dashes', () => {
    expect(parseLogName('my-web-app-20130704T0100Z.log')).to.include({ prefix: 'my-web-app', suffix: '' });
  });

  it('runs the suffix to the first dot and keeps a multi-part extension', () => {
    expect(parseLogName('haproxy-20130704T0000Z-i-1.log.gz')).to.include({ suffix: 'i-1', extension: '.log.gz' });
    expect(parseLogName('haproxy-20130704T0000Z.log.gz')).to.include({ suffix: '', extension: '.log.gz' });
  });

  it('takes the last stamp when the prefix holds an earlier one (greedy, as the Python tool)', () => {
    expect(parseLogName('a-20130101T0000Z-20130102T0000Z.log')).to.include({
      prefix: 'a-20130101T0000Z',
      stamp: '20130102T0000Z',
    });
  });

  for (const name of [
    'haproxy.log', // no stamp
    'haproxy-20131304T0000Z.log', // month 13
    'haproxy-20130231T0000Z.log', // 31 February
    'haproxy-20130230T0000Z.log', // 30 February
    'haproxy-20130704T2400Z.log', // hour 24
    'haproxy-20130704T0060Z.log', // minute 60
    'haproxy-20130700T0000Z.log', // day 0
    '-20130704T0000Z.log', // no prefix
    '20130704T0000Z.log', // no prefix, no dash
    'haproxy-20130704T0000Z', // no extension
    'haproxy-20130704T0000Z-i-1', // no extension after a suffix
    'haproxy-20130704T0000.log', // no Z
    'haproxy-20130704 0000Z.log', // no T
    'haproxy-2013074T0000Z.log', // short date
    'haproxy-20130704T0000Z-.log', // empty suffix
    'haproxy-20130704T0000Z.log\n', // newline
    'hap\nroxy-20130704T0000Z.log', // newline in prefix
    'haproxy-20130704T0000Z-i\n1.log', // newline in suffix
    'haproxy-20130704T0000Z-i\r1.log', // carriage return in suffix
    '.logjam-compress.123.abcdef.tmp', // our own temp files
    '.haproxy-20130704T0000Z.log.swp', // hidden: an editor's swap file
    '.#haproxy-20130704T0000Z.log', // hidden: an editor's lock
    'haproxy-20130704T0000Z.log~', // a backup
    'haproxy-20130704T0000Z.log.tmp', // a temporary file
  ]) {
    it(`rejects ${JSON.stringify(name)}`, () => {
      expect(parseLogName(name)).to.equal(null);
    });
  }

  it('accepts 29 February in a leap year only', () => {
    expect(parseLogName('x-20120229T0000Z.log')).to.not.equal(null);
    expect(parseLogName('x-20130229T0000Z.log')).to.equal(null);
  });

  it('formats names with the compact stamp', () => {
    expect(formatLogName({ prefix: 'a-b', stamp: '20130727T1200Z', suffix: 'i-1', extension: '.log' })).to.equal(
      'a-b-20130727T1200Z-i-1.log',
    );
    expect(formatLogName({ prefix: 'a', stamp: '20130727T1200Z', suffix: '', extension: '.log' })).to.equal(
      'a-20130727T1200Z.log',
    );
    expect(compactStamp(Date.UTC(2013, 6, 27, 12, 5))).to.equal('20130727T1205Z');
  });

  it('groups by prefix, suffix and extension, ordered by stamp', () => {
    const names = [
      'web-20130704T0200Z-a.log',
      'web-20130704T0000Z-a.log',
      'web-2013-07-04T01:00Z-a.log',
      'web-20130704T0000Z-b.log',
      'web-20130704T0000Z-a.txt',
      'db-20130704T0000Z-a.log',
      'notes.txt',
    ];
    const groups = groupLogNames(names.map(parseLogName).filter((x) => x !== null));
    expect([...groups.values()].map((g) => g.map((l) => l.name))).to.have.deep.members([
      ['web-20130704T0000Z-a.log', 'web-2013-07-04T01:00Z-a.log', 'web-20130704T0200Z-a.log'],
      ['web-20130704T0000Z-b.log'],
      ['web-20130704T0000Z-a.txt'],
      ['db-20130704T0000Z-a.log'],
    ]);
  });
});
