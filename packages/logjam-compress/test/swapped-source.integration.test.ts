// A symbolic link put in a log file's place after the scan saw a regular file
// (the race a hostile owner of LOG_DIR can run against root): the built binary
// is stopped by strace right after its lstat of the source, the file is swapped
// for a link to a file outside LOG_DIR, and the run goes on. The link must not
// be followed: its target is never even opened (watched with inotify), so not
// read into a temporary archive either (a later identity check would only
// discard that copy), and the link is left in place.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, ls, tmpDir, waitExit, waitFor } from '../../../test/support/index.ts';
import { hasStrace, NO_STRACE, startStopped } from '../../../test/support/strace.ts';

const NAME = 'app-20240101T0000Z.log';

/** Python, through libc's inotify: prints `ready`, then `opened` each time the file in argv[1] is opened (IN_OPEN). */
const WATCH_OPENS = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
if fd < 0 or libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x20) < 0: sys.exit('inotify: ' + os.strerror(ctypes.get_errno()))
print('ready', flush=True)
while True:
    os.read(fd, 4096)
    print('opened', flush=True)
`;

/** Watches `file` for opens until `stop()`, which returns how many were seen. */
async function watchOpens(file: string): Promise<{ stop: () => Promise<number> }> {
  const child = spawn('python3', ['-c', WATCH_OPENS, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const closed = new Promise((resolve) => child.on('close', resolve));
  await waitFor(() => out.startsWith('ready\n'), { what: 'the inotify watcher to be ready' });
  return {
    async stop() {
      child.kill('SIGKILL');
      await closed;
      return out.split('\n').filter((line) => line === 'opened').length;
    },
  };
}
const OLD = Date.now() / 1000 - 3600;

describe('logjam-compress (built binary): a link swapped in for a source between its scan and its open', function () {
  this.timeout(60_000);
  after(cleanupTmpDirs);

  it('is not followed: the target outside LOG_DIR is untouched, no archive holds it, and the run says so', async function () {
    if (!hasStrace) {
      console.log(`      ${NO_STRACE}`);
      return this.skip();
    }
    const root = await tmpDir();
    const logs = path.join(root, 'logs');
    await fs.mkdir(logs);
    const source = path.join(logs, NAME);
    await fs.writeFile(source, 'the real log line\n');
    await fs.utimes(source, OLD, OLD);
    const victim = path.join(root, 'victim');
    await fs.writeFile(victim, 'secret, not a log\n');
    const opens = await watchOpens(victim);

    const { child, resume } = await startStopped('logjam-compress', ['--once', '--jobs', '1', logs], {
      syscall: 'statx',
      n: 1,
      path: source,
    });
    await fs.rename(source, path.join(root, 'moved-away.log'));
    await fs.symlink(victim, source);
    resume();
    const result = await waitExit(child);

    expect(await opens.stop(), `the link's target was opened:\n${result.stderr}`).to.equal(0);
    expect(result.stderr).not.to.match(/changed while being compressed/);
    expect(result.stderr).to.include(source);
    expect(await fs.readFile(victim, 'utf8')).to.equal('secret, not a log\n');
    expect((await fs.lstat(source)).isSymbolicLink(), 'the link is left where it was put').to.equal(true);
    expect(await ls(path.join(logs, 'archive'))).to.deep.equal([]);
  });
});
