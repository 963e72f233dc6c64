// Node's compile cache: on Node >= 22.1 the launchers keep V8's compiled code
// in the user's own folder under the temp folder; on older Node nothing is
// written; a folder that is not the user's private one is left alone.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { compileCacheDir } from '../packages/core/src/compile-cache.ts';
import { cleanupTmpDirs, exists, runBin, tmpDir } from './support/index.ts';

const HAS_CACHE = typeof (module as unknown as { enableCompileCache?: unknown }).enableCompileCache === 'function';
const uid = process.getuid!();

describe('compile cache', () => {
  afterEach(cleanupTmpDirs);

  (HAS_CACHE ? it : it.skip)(
    `on Node >= 22.1 (this is ${process.version}; CI runs every line) both binaries fill a private folder of the user's under TMPDIR`,
    async () => {
      const tmp = await tmpDir();
      for (const name of ['logjam-compress', 'logjam-upload'] as const) {
        const result = await runBin(name, ['--help'], { env: { TMPDIR: tmp } });
        expect(result.code, result.stderr).to.equal(0);
      }
      const dir = compileCacheDir(tmp, uid);
      expect((await fs.stat(dir)).mode & 0o777).to.equal(0o700);
      const [versionDir, ...others] = await fs.readdir(dir);
      expect(others).to.deep.equal([]);
      expect(versionDir).to.include(process.version);
      expect((await fs.readdir(path.join(dir, versionDir!))).length).to.be.at.least(2);
    },
  );

  (HAS_CACHE ? it.skip : it)(`on Node < 22.1 (this is ${process.version}) nothing is written`, async () => {
    const tmp = await tmpDir();
    const result = await runBin('logjam-upload', ['--help'], { env: { TMPDIR: tmp } });
    expect(result.code, result.stderr).to.equal(0);
    expect(await fs.readdir(tmp)).to.deep.equal([]);
  });

  it('a link in its place is not followed, a folder others can write is not used, and the binary still runs', async () => {
    const tmp = await tmpDir();
    const elsewhere = await tmpDir();
    await fs.symlink(elsewhere, compileCacheDir(tmp, uid));
    const linked = await runBin('logjam-compress', ['--help'], { env: { TMPDIR: tmp } });
    expect(linked.code, linked.stderr).to.equal(0);
    expect(await fs.readdir(elsewhere)).to.deep.equal([]);

    const shared = await tmpDir();
    await fs.mkdir(compileCacheDir(shared, uid));
    await fs.chmod(compileCacheDir(shared, uid), 0o777);
    const open = await runBin('logjam-compress', ['--help'], { env: { TMPDIR: shared } });
    expect(open.code, open.stderr).to.equal(0);
    expect(await fs.readdir(compileCacheDir(shared, uid))).to.deep.equal([]);
  });

  it('NODE_DISABLE_COMPILE_CACHE turns it off', async () => {
    const tmp = await tmpDir();
    const result = await runBin('logjam-compress', ['--help'], {
      env: { TMPDIR: tmp, NODE_DISABLE_COMPILE_CACHE: '1' },
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(await exists(compileCacheDir(tmp, uid))).to.equal(false);
  });
});
