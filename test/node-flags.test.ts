// The npm launchers start node with V8's settings (scripts/node-flags.mjs) when
// run as npm's bin links run them: as a program, by their first lines (a shell's).
// Seen in the running service's own command line (/proc/<pid>/cmdline, Linux).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { NODE_FLAGS } from '../scripts/node-flags.mjs';
import { binaries, cleanupTmpDirs, tmpDir, waitFor } from './support/index.ts';

describe("the launchers pass V8's settings to node", function () {
  before(function () {
    if (process.platform !== 'linux') this.skip();
  });
  after(cleanupTmpDirs);

  it('a logjam-compress service run as a program has them on its command line, and both launchers start alike', async () => {
    const dir = await tmpDir();
    // This Node first on PATH, as `#!/usr/bin/env node` would find it.
    const child = spawn(binaries['logjam-compress'], [dir], {
      env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, HOME: process.env.HOME },
      stdio: 'ignore',
    });
    try {
      const argv = await waitFor(
        async () => {
          // Until the shell has exec'd node, the process is /bin/sh running the launcher's first lines.
          if (!path.basename(await fs.readlink(`/proc/${child.pid}/exe`)).startsWith('node')) return null;
          const args = (await fs.readFile(`/proc/${child.pid}/cmdline`, 'utf8')).split('\0');
          return args.some((arg) => arg.endsWith('logjam-compress.cjs')) && args.includes(dir) ? args : null;
        },
        { timeoutMs: 30_000, what: 'node running the launcher' },
      );
      expect(argv.slice(1, 1 + NODE_FLAGS.length)).to.deep.equal(NODE_FLAGS);
    } finally {
      child.kill('SIGTERM');
    }
    const firstLines = async (file: string) => (await fs.readFile(file, 'utf8')).split('\n').slice(0, 2);
    expect(await firstLines(binaries['logjam-upload'])).to.deep.equal(await firstLines(binaries['logjam-compress']));
  });
});
