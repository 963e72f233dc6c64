// The store profile (profile.ts): when a probe is fresh, what a refusal is
// worth saying, and which files it is believed from.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createLogger } from '@logjam/core';
import { cleanupTmpDirs, tmpDir } from '../../../test/support/index.ts';
import {
  freshProbe,
  noteRefused,
  PROFILE_FILE,
  profileKey,
  RELEARN_AFTER_MS,
  StoreProfile,
  type StoreFacts,
} from '../src/profile.ts';

const ENDPOINT = 'http://127.0.0.1:9000';
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 11, 6);
const quiet = () => createLogger({ name: 'test', level: 'error', write: () => {} });

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
    expect(await again.facts(key)).to.deep.equal({
      probedAt: NOW,
      writes: { put: true, complete: false },
      refused: {},
    });
    expect(await again.facts(profileKey(ENDPOINT, 'logs', ''))).to.deep.equal({ refused: {} });
  });

  it('is ignored when others could have written it, or when it is a link; saving replaces the link, never writes through it', async () => {
    const dir = await archive();
    const key = profileKey(ENDPOINT, 'logs', '');
    const file = path.join(dir, '.uploaded', PROFILE_FILE);
    const content = JSON.stringify({
      version: 1,
      stores: { [key]: { probedAt: Date.now(), writes: { put: true, complete: true }, refused: {} } },
    });
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
    await fs.writeFile(
      file,
      '{"version":1,"stores":{"__proto__":{"probedAt":1},"s":{"probedAt":"soon","writes":{"put":"yes","complete":true},"refused":{"DeleteObject":5,"Other":6}}}}',
      {
        mode: 0o600,
      },
    );
    const profile = new StoreProfile(dir, quiet());
    expect(await profile.facts('s')).to.deep.equal({ refused: { DeleteObject: 5 } });
    expect(({} as { probedAt?: unknown }).probedAt).to.equal(undefined);
  });
});
