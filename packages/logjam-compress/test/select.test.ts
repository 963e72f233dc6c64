import { expect } from 'chai';
import { parseLogName } from '@logjam/core';
import { CLOSE_AFTER_MS, selectDue, type Candidate } from '../src/select.ts';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 12, 0); // 2024-01-01T12:00Z

function file(name: string, mtimeMs = 0): Candidate {
  const log = parseLogName(name);
  if (!log) throw new Error(`test bug: ${name} is not a log name`);
  return { log, mtimeMs };
}
const names = (list: Candidate[]) => list.map((c) => c.log.name);

describe('selectDue (the closing rule, with an injected clock)', () => {
  it('closes a file when a newer file of its group exists, and leaves the newest open', () => {
    const files = [file('app-20240101T1200Z.log'), file('app-20240101T1100Z.log'), file('app-20240101T1000Z.log')];
    const result = selectDue(files, { now: T0 + 5 * MIN, minAgeMs: 0 });
    expect(names(result.due)).to.deep.equal(['app-20240101T1000Z.log', 'app-20240101T1100Z.log']);
    expect(names(result.waiting)).to.deep.equal(['app-20240101T1200Z.log']);
    expect(result.waiting[0]!.reason).to.equal('open');
  });

  it('closes a lone file only once its stamp is more than 65 minutes old', () => {
    const files = [file('app-20240101T1200Z.log')];
    expect(selectDue(files, { now: T0 + CLOSE_AFTER_MS - 1, minAgeMs: 0 }).due).to.have.length(0);
    expect(
      selectDue(files, { now: T0 + CLOSE_AFTER_MS, minAgeMs: 0 }).due,
      'exactly 65 min is not more than 65 min',
    ).to.have.length(0);
    expect(names(selectDue(files, { now: T0 + CLOSE_AFTER_MS + 1, minAgeMs: 0 }).due)).to.deep.equal([
      'app-20240101T1200Z.log',
    ]);
    expect(CLOSE_AFTER_MS).to.equal(65 * MIN);
  });

  it('reads the stamp with dashes and a colon like the compact one', () => {
    const files = [file('app-2024-01-01T12:00Z.log')];
    expect(selectDue(files, { now: T0 + CLOSE_AFTER_MS, minAgeMs: 0 }).due).to.have.length(0);
    expect(selectDue(files, { now: T0 + CLOSE_AFTER_MS + 1, minAgeMs: 0 }).due).to.have.length(1);
  });

  it('treats groups (prefix, suffix, extension) independently', () => {
    const files = [
      file('app-20240101T1200Z-web1.log'),
      file('app-20240101T1300Z-web2.log'), // newer, but another suffix
      file('app-20240101T1300Z-web1.txt'), // newer, but another extension
      file('api-20240101T1300Z-web1.log'), // newer, but another prefix
      file('app-20240101T1300Z-web1.log.gz'), // another extension too
    ];
    const result = selectDue(files, { now: T0 + 61 * MIN, minAgeMs: 0 });
    expect(result.due).to.have.length(0);
    expect(result.waiting).to.have.length(5);
  });

  it('does not let two spellings of the same stamp close each other', () => {
    const files = [file('app-2024-01-01T12:00Z.log'), file('app-20240101T1200Z.log')];
    expect(selectDue(files, { now: T0 + MIN, minAgeMs: 0 }).due).to.have.length(0);
  });

  it('holds a closed file whose mtime is younger than the grace period, and says when it is due', () => {
    const now = T0 + 2 * 60 * MIN;
    const files = [file('app-20240101T1200Z.log', now - 30_000)];
    const held = selectDue(files, { now, minAgeMs: 60_000 });
    expect(held.due).to.have.length(0);
    expect(held.waiting[0]).to.include({ reason: 'grace', dueAt: now + 30_000 });
    expect(held.nextDueAt).to.equal(now + 30_000);
    // Exactly min-age old is old enough.
    expect(selectDue(files, { now: now + 30_000, minAgeMs: 60_000 }).due).to.have.length(1);
    expect(selectDue(files, { now: now + 29_999, minAgeMs: 60_000 }).due).to.have.length(0);
  });

  it('disables the grace period with min-age 0, even for a file modified just now', () => {
    const now = T0 + 2 * 60 * MIN;
    expect(selectDue([file('app-20240101T1200Z.log', now)], { now, minAgeMs: 0 }).due).to.have.length(1);
  });

  it('applies the grace period to files closed by a newer file too', () => {
    const now = T0 + 10 * MIN;
    const files = [file('app-20240101T1200Z.log', now - 1000), file('app-20240101T1205Z.log', now)];
    const result = selectDue(files, { now, minAgeMs: 60_000 });
    expect(result.due).to.have.length(0);
    expect(result.waiting.find((w) => w.log.name === 'app-20240101T1200Z.log')).to.include({
      reason: 'grace',
      dueAt: now + 59_000,
    });
  });

  it('gives nextDueAt as the earliest instant a waiting file becomes due', () => {
    const now = T0 + 10 * MIN;
    const files = [
      file('app-20240101T1200Z.log', T0), // open: due at T0 + 65 min + 1 ms
      file('web-20240101T1205Z.log', T0), // open: due 5 minutes later
    ];
    const result = selectDue(files, { now, minAgeMs: 60_000 });
    expect(result.nextDueAt).to.equal(T0 + CLOSE_AFTER_MS + 1);
    // An open file whose grace ends after it closes is due at the later of the two.
    const late = selectDue([file('app-20240101T1200Z.log', T0 + CLOSE_AFTER_MS)], { now, minAgeMs: 60_000 });
    expect(late.nextDueAt).to.equal(T0 + CLOSE_AFTER_MS + 60_000);
    expect(selectDue([], { now, minAgeMs: 0 }).nextDueAt).to.equal(undefined);
    expect(selectDue([file('app-20240101T1000Z.log')], { now, minAgeMs: 0 }).nextDueAt, 'nothing waits').to.equal(
      undefined,
    );
  });

  it('lists due files oldest first', () => {
    const files = [file('b-20240101T0100Z.log'), file('a-20240101T0200Z.log'), file('a-20240101T0000Z.log')];
    expect(names(selectDue(files, { now: T0, minAgeMs: 0 }).due)).to.deep.equal([
      'a-20240101T0000Z.log',
      'b-20240101T0100Z.log',
      'a-20240101T0200Z.log',
    ]);
  });
});
