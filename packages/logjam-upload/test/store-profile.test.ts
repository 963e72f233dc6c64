import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@logjam/core';
import { cleanupTmpDirs, tmpDir } from '../../../test/support/index.ts';
import { choose, contradiction, judgeProbe, probeKey } from '../src/conditional.ts';
import { freshProbe, noteRefused, PROFILE_FILE, profileKey, RELEARN_AFTER_MS, StoreProfile, type StoreFacts } from '../src/profile.ts';

const ENDPOINT = 'http://127.0.0.1:9000';
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 11, 6);
const quiet = () => createLogger({ name: 'test', level: 'error', write: () => {} });

describe('the probe and what it decides (conditional.ts, pure)', () => {
  it('judges the store by its answers: a write landing onto the taken probe key ignored If-None-Match', () => {
    expect(judgeProbe({ first: 'written', second: 'refused', complete: 'refused' })).to.deep.equal({ put: true, complete: true });
    expect(judgeProbe({ first: 'written', second: 'refused', complete: 'written' })).to.deep.equal({ put: true, complete: false });
    expect(judgeProbe({ first: 'written', second: 'written', complete: 'written' })).to.deep.equal({ put: false, complete: false });
    expect(judgeProbe({ first: 'written', second: 'unsupported', complete: 'unsupported' })).to.deep.equal({ put: false, complete: false });
    expect(judgeProbe({ first: 'unsupported' })).to.deep.equal({ put: false, complete: false });
    // An earlier (killed) probe's object held the key: only a store that honours If-None-Match refuses.
    expect(judgeProbe({ first: 'refused', complete: 'refused' })).to.deep.equal({ put: true, complete: true });
  });

  it('probes a custom endpoint unless a fresh probe answers; trusts AWS and --conditional-writes no', () => {
    const honoured = { writes: { put: true, complete: true } };
    const putOnly = { writes: { put: true, complete: false } };
    expect(choose('auto', ENDPOINT, false, undefined)).to.deep.equal({ probe: 'conditional' });
    expect(choose('auto', ENDPOINT, false, putOnly)).to.deep.equal({ writes: putOnly.writes });
    expect(choose('auto', undefined, false, undefined)).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('auto', undefined, true, undefined)).to.deep.equal({ probe: 'settings', writes: { put: true, complete: true } });
    expect(choose('auto', undefined, true, {})).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('no', ENDPOINT, false, undefined)).to.deep.equal({ writes: { put: false, complete: false } });
    expect(choose('yes', undefined, false, undefined)).to.deep.equal({ writes: { put: true, complete: true } });
    // A promise on a custom endpoint is verified, and a probe that found less is asked again.
    expect(choose('yes', ENDPOINT, false, undefined)).to.deep.equal({ probe: 'conditional' });
    expect(choose('yes', ENDPOINT, false, honoured)).to.deep.equal({ writes: { put: true, complete: true } });
    expect(choose('yes', ENDPOINT, false, putOnly)).to.deep.equal({ probe: 'conditional' });
    expect(choose('put-only', ENDPOINT, false, putOnly)).to.deep.equal({ writes: { put: true, complete: false } });
    expect(choose('put-only', ENDPOINT, false, { writes: { put: false, complete: false } })).to.deep.equal({ probe: 'conditional' });
  });

  it('a store doing less than --conditional-writes said is a configuration error naming the option and what to say instead', () => {
    const none = { put: false, complete: false };
    const putOnly = { put: true, complete: false };
    expect(contradiction('yes', none, ENDPOINT, 'k')?.message).to.match(/^--conditional-writes yes: .* on PutObject .*use --conditional-writes no or auto/);
    expect(contradiction('yes', putOnly, ENDPOINT, 'k')?.message).to.match(/^--conditional-writes yes: .* on CompleteMultipartUpload .*use --conditional-writes put-only or auto/);
    expect(contradiction('put-only', none, ENDPOINT, 'k')?.message).to.match(/^--conditional-writes put-only: .* on PutObject/);
    expect(contradiction('put-only', putOnly, ENDPOINT, 'k')).to.equal(null);
    expect(contradiction('auto', none, ENDPOINT, 'k')).to.equal(null);
  });

  it('one probe key per host and archive folder, under the template folder', () => {
    const a = probeKey('logs/', { hostname: 'web1', archiveDir: '/var/log/hourly/archive' });
    expect(a).to.match(/^logs\/\.logjam-probe\/web1-[0-9a-f]{8}$/);
    expect(probeKey('logs/', { hostname: 'web1', archiveDir: '/var/log/hourly/archive' })).to.equal(a);
    expect(probeKey('logs/', { hostname: 'web1', archiveDir: '/srv/app/archive' })).not.to.equal(a);
    expect(probeKey('', { hostname: 'a b/c', archiveDir: '/x/archive' })).to.match(/^\.logjam-probe\/a_b_c-/);
  });
});

describe('the store profile (profile.ts)', () => {
  afterEach(cleanupTmpDirs);

  async function archive(): Promise<string> {
    const dir = path.join(await tmpDir(), 'archive');
    await fs.mkdir(path.join(dir, '.uploaded'), { recursive: true });
    return dir;
  }

  it('a probe is trusted for a week, and not from the future (a clock set back)', () => {
    const facts: StoreFacts = { probedAt: NOW, writes: { put: true, complete: false }, refused: {} };
    expect(freshProbe(facts, NOW + 6 * DAY)).to.deep.equal({ writes: { put: true, complete: false } });
    expect(freshProbe(facts, NOW + RELEARN_AFTER_MS)).to.equal(undefined);
    expect(freshProbe(facts, NOW - 1)).to.equal(undefined);
    expect(freshProbe({ probedAt: NOW, refused: {} }, NOW)).to.deep.equal({});
    expect(freshProbe({ refused: {} }, NOW)).to.equal(undefined);
  });

  it('a refusal is news once', () => {
    const facts: StoreFacts = { refused: {} };
    expect(noteRefused(facts, 'DeleteObject', NOW)).to.equal(true);
    expect(noteRefused(facts, 'DeleteObject', NOW + DAY)).to.equal(false);
    expect(facts.refused, 'when last refused').to.deep.equal({ DeleteObject: NOW + DAY });
  });

  it('is kept per store, bucket and object settings, written privately, and read back', async () => {
    const dir = await archive();
    const key = profileKey(ENDPOINT, 'logs', '--storage-class STANDARD_IA');
    expect(profileKey(undefined, 'logs', '')).to.equal('AWS logs');
    const profile = new StoreProfile(dir, quiet());
    Object.assign(await profile.facts(key), { probedAt: NOW, writes: { put: true, complete: false } });
    profile.touch();
    await profile.save();
    const file = path.join(dir, '.uploaded', PROFILE_FILE);
    expect((await fs.stat(file)).mode & 0o777).to.equal(0o600);
    const again = new StoreProfile(dir, quiet());
    expect(await again.facts(key)).to.deep.equal({ probedAt: NOW, writes: { put: true, complete: false }, refused: {} });
    expect(await again.facts(profileKey(ENDPOINT, 'logs', ''))).to.deep.equal({ refused: {} });
  });

  it('is ignored when others could have written it, or when it is a link; saving replaces the link, never writes through it', async () => {
    const dir = await archive();
    const key = profileKey(ENDPOINT, 'logs', '');
    const file = path.join(dir, '.uploaded', PROFILE_FILE);
    const content = JSON.stringify({ version: 1, stores: { [key]: { probedAt: Date.now(), writes: { put: true, complete: true }, refused: {} } } });
    await fs.writeFile(file, content, { mode: 0o600 });
    expect(await new StoreProfile(dir, quiet()).facts(key)).to.have.property('writes');
    await fs.chmod(file, 0o666);
    expect(await new StoreProfile(dir, quiet()).facts(key)).to.deep.equal({ refused: {} });

    const elsewhere = path.join(await tmpDir(), 'target.json');
    await fs.writeFile(elsewhere, content, { mode: 0o600 });
    await fs.rm(file);
    await fs.symlink(elsewhere, file);
    const linked = new StoreProfile(dir, quiet());
    expect(await linked.facts(key)).to.deep.equal({ refused: {} });
    linked.touch();
    await linked.save();
    expect((await fs.lstat(file)).isFile()).to.equal(true);
    expect(await fs.readFile(elsewhere, 'utf8')).to.equal(content);
  });

  it('keeps only what it knows from a profile: a key named __proto__ or a field of the wrong type changes nothing else', async () => {
    const dir = await archive();
    const file = path.join(dir, '.uploaded', PROFILE_FILE);
    await fs.writeFile(file, '{"version":1,"stores":{"__proto__":{"probedAt":1},"s":{"probedAt":"soon","writes":{"put":"yes","complete":true},"refused":{"DeleteObject":5,"Other":6}}}}', {
      mode: 0o600,
    });
    const profile = new StoreProfile(dir, quiet());
    expect(await profile.facts('s')).to.deep.equal({ refused: { DeleteObject: 5 } });
    expect(({} as { probedAt?: unknown }).probedAt).to.equal(undefined);
  });
});
