import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../src/errors.ts';
import { checkNotLink, holdDir, showPaths } from '../src/held-dir.ts';
import { insecurePermissions, insecurePermissionsMessage } from '../src/permissions.ts';
import { parseUserSpec } from '../src/run-as.ts';
import { cleanupTmpDirs, tmpDir } from '../../../test/support/index.ts';

describe('held directories (no link followed, no swap seen)', () => {
  afterEach(cleanupTmpDirs);

  it('refuses a directory that is a symbolic link, naming it and the fix', async () => {
    const root = await tmpDir();
    await fs.mkdir(path.join(root, 'victim'));
    await fs.symlink('victim', path.join(root, 'archive'));
    const error = await holdDir(path.join(root, 'archive'), 'the archives').catch((e: unknown) => e);
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.match(
      new RegExp(
        `^${path.join(root, 'archive')} is a symbolic link; logjam never follows a link it did not make .*: replace it with a real directory for the archives$`,
      ),
    );
    expect(
      await checkNotLink(path.join(root, 'archive'), 'the archives').catch((e: unknown) => (e as Error).message),
    ).to.equal((error as Error).message);
  });

  it('refuses a file where a directory should be', async () => {
    const root = await tmpDir();
    await fs.writeFile(path.join(root, 'archive'), '');
    const error = await holdDir(path.join(root, 'archive'), 'the archives').catch((e: unknown) => e);
    expect((error as Error).message).to.equal(
      `${path.join(root, 'archive')} exists but is not a directory: move it away, so that logjam can make the directory for the archives`,
    );
  });

  it('keeps writing into the directory it opened when the name is swapped for a link, and says so on verify', async () => {
    const root = await tmpDir();
    const archive = path.join(root, 'archive');
    const victim = path.join(root, 'victim');
    await fs.mkdir(archive);
    await fs.mkdir(victim);
    const held = await holdDir(archive, 'the archives');
    try {
      expect(held.pinned, 'this test needs /proc').to.equal(true);
      await fs.rename(archive, path.join(root, 'moved'));
      await fs.symlink('victim', archive);
      await fs.writeFile(path.join(held.via, 'a.gz'), 'x', { flag: 'wx' });
      expect(await fs.readdir(victim)).to.deep.equal([]);
      expect(await fs.readdir(path.join(root, 'moved'))).to.deep.equal(['a.gz']);
      const error = await held.verify().catch((e: unknown) => e);
      expect(error).to.be.instanceOf(ConfigError);
      expect(showPaths(`open '${held.via}/a.gz'`)).to.equal(`open '${archive}/a.gz'`);
    } finally {
      await held.close();
    }
  });
});

describe('the permission rule (pure)', () => {
  it("refuses, for root only, a directory writable by everyone or by a group other than root's", () => {
    expect(insecurePermissions({ mode: 0o40777, uid: 0, gid: 0 }, 0)).to.equal('writable by every user (mode 0777)');
    expect(insecurePermissions({ mode: 0o41777, uid: 0, gid: 0 }, 0)).to.equal('writable by every user (mode 1777)');
    expect(insecurePermissions({ mode: 0o40775, uid: 1000, gid: 1000 }, 0)).to.equal(
      "writable by group 1000, not root's (mode 0775)",
    );
    expect(insecurePermissions({ mode: 0o40775, uid: 0, gid: 0 }, 0)).to.equal(null);
    expect(insecurePermissions({ mode: 0o40755, uid: 1000, gid: 1000 }, 0)).to.equal(null);
    expect(insecurePermissions({ mode: 0o40777, uid: 1000, gid: 1000 }, 1000)).to.equal(null);
  });

  it('words the refusal on one line with the three ways out', () => {
    const text = insecurePermissionsMessage('/var/log/app', 'writable by every user (mode 0777)', 'logjam-compress');
    expect(text).to.not.include('\n');
    expect(text)
      .to.include('--user USER[:GROUP]')
      .and.include('chmod g-w,o-w /var/log/app')
      .and.include('--insecure-permissions');
  });
});

describe('--user USER[:GROUP] (pure)', () => {
  it('reads a user and an optional group, names or numbers', () => {
    expect(parseUserSpec('nobody')).to.deep.equal({ user: 'nobody', group: undefined });
    expect(parseUserSpec('logjam:adm')).to.deep.equal({ user: 'logjam', group: 'adm' });
    expect(parseUserSpec('65534:65534')).to.deep.equal({ user: '65534', group: '65534' });
    expect(() => parseUserSpec('a:b:c')).to.throw("--user takes USER or USER:GROUP (names or numbers), not 'a:b:c'");
  });
});
