// A service that runs each pass with work as a child process: the same
// program again, with --once, handed the service's lock. The service itself
// then never loads what a pass needs (the AWS SDK, its connections, the
// buffers of a pass), and idles near Node's own footprint; a pass's memory
// goes back to the system when its child exits. The child is told it is a
// service's pass by one variable, which names the descriptor of the lock it
// inherited; it adopts that lock only if it is the very lock file, locked by
// that descriptor (adoptLock), so the variable grants nothing by itself.
import { spawn } from 'node:child_process';
import os from 'node:os';
import type { Logger } from './log.js';
import { selfCommand } from './self-command.js';

/** Set for a service's pass child: the child's descriptor of the service's lock. logjam's own plumbing, not a setting. */
export const SERVICE_PASS_ENV = 'LOGJAM_SERVICE_PASS';
/** The lock's descriptor in the child: the first one after stdin, stdout and stderr. */
const CHILD_LOCK_FD = 3;

/** In a child: the service's pass it runs (the lock's descriptor), read once and removed, so that its own children do not see it. */
export function takeServicePass(env: NodeJS.ProcessEnv = process.env): { lockFd: number } | undefined {
  const value = env[SERVICE_PASS_ENV];
  delete env[SERVICE_PASS_ENV];
  if (value === undefined) return undefined;
  return { lockFd: /^\d{1,4}$/.test(value) ? Number(value) : -1 };
}

/**
 * Runs one pass as a child: this program again with `args` and --once, the
 * lock held by `lockFd` given as the child's descriptor 3, stdout and stderr
 * shared. A stop is passed on to it (SIGTERM: it finishes or rolls back what it
 * is doing). Resolves with its exit code, 128 + the signal's number if a signal
 * ended it (0 if that was the stop it was passed).
 */
export function runPassChild(
  args: string[],
  lockFd: number,
  options: { signal: AbortSignal; log: Logger },
): Promise<number> {
  const { file, args: self } = selfCommand(args);
  return new Promise((resolve) => {
    const child = spawn(file, [...self, '--once'], {
      env: { ...process.env, [SERVICE_PASS_ENV]: String(CHILD_LOCK_FD) },
      stdio: ['ignore', 'inherit', 'inherit', lockFd],
    });
    const stop = (): void => void child.kill('SIGTERM');
    options.signal.addEventListener('abort', stop, { once: true });
    child.on('error', (error) => {
      options.signal.removeEventListener('abort', stop);
      options.log.error(`cannot start a pass: ${error.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      options.signal.removeEventListener('abort', stop);
      // SIGTERM passed on before the child could catch it (it was starting) ends it: a stop, not a failure.
      if (signal === 'SIGTERM' && options.signal.aborted) return resolve(0);
      if (signal) options.log.error(`the pass ended by ${signal}; its files are left for the next pass`);
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
}
