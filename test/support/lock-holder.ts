// A process that holds a logjam lock as logjam does (flock on the file, its
// pid written in it), named `program` on its command line; for tests of
// "held by another run". Killing it lets the kernel release the lock.
import { spawn, type ChildProcess } from 'node:child_process';

const HOLD = `
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const fd = fs.openSync(process.argv[1], fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o644);
if (spawnSync('flock', ['--exclusive', '--nonblock', '3'], { stdio: ['ignore', 'ignore', 'ignore', fd] }).status !== 0) process.exit(3);
fs.ftruncateSync(fd, 0);
fs.writeSync(fd, process.pid + '\\n', 0);
process.stdout.write('held\\n');
setInterval(() => {}, 1 << 30);
`;

/** Starts a holder of the lock `file` and resolves once it holds it (rejects after 20 s, or if it could not). The caller kills it. */
export function holdLock(file: string, program: string): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', HOLD, file, program], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the lock holder did not take ${file} within 20 s`));
    }, 20_000);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve(child as ChildProcess & { pid: number });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the lock holder of ${file} exited (${code})`));
    });
  });
}
