// What the binaries load at start: chokidar (the file watcher) only when a
// service starts watching, never for --once, --check or --help (start-up time).
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { binaries, cleanupTmpDirs, runBin, tmpDir } from './support/index.ts';

describe('chokidar is loaded only in service mode', () => {
  let hook: string;
  before(async () => {
    // A module resolution hook that fails any import of chokidar: preloaded with --import.
    hook = path.join(await tmpDir(), 'no-chokidar.mjs');
    const resolver = `export async function resolve(specifier, context, next) { if (specifier === 'chokidar' || specifier.startsWith('chokidar/')) throw new Error('chokidar was loaded'); return next(specifier, context); }`;
    await fs.writeFile(hook, `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(resolver)}`)});\n`);
  });
  after(cleanupTmpDirs);

  it('the bundles import it only lazily (a dynamic import), never statically', async () => {
    // The programs themselves (bin/*.mjs), not their launchers (bin/*.cjs, which import only node: built-ins).
    for (const bundle of Object.values(binaries).map((launcher) => launcher.replace(/\.cjs$/, '.mjs'))) {
      const text = await fs.readFile(bundle, 'utf8');
      expect(text, bundle).to.include('import("chokidar")');
      expect(text, bundle).not.to.match(/(^|\n)\s*import\s[^;(]*["']chokidar["']/);
    }
  });

  it('logjam-compress --once and --help run with chokidar unresolvable', async () => {
    const dir = await tmpDir();
    await fs.writeFile(path.join(dir, 'app-20240101T0000Z.log'), 'a line\n');
    const env = { NODE_OPTIONS: `--import ${hook}` };
    const once = await runBin('logjam-compress', ['--once', '--min-age', '0', dir], { env });
    expect(once.code, once.stderr).to.equal(0);
    expect(await fs.readdir(path.join(dir, 'archive'))).to.deep.equal(['app-20240101T0000Z.log.gz']);
    const help = await runBin('logjam-compress', ['--help'], { env });
    expect(help.code, help.stderr).to.equal(0);
    // The hook does bite: a service needs the watcher, and fails to start without it.
    const service = await runBin('logjam-compress', [dir], { env, timeoutMs: 20_000 });
    expect(service.code).to.not.equal(0);
    expect(service.stderr).to.include('chokidar was loaded');
  });
});
