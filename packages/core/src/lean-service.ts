// A service whose own work is small (upload's supervisor: it lists, watches and
// starts each pass as a child) runs without V8's JIT. Its parsing of the
// command line alone made V8 compile with Maglev and TurboFan, whose code is
// 5-6 MB of Node's binary held resident for the service's life (Node 24:
// 63 -> 53 MB idle, docs/performance.md), and weeks of rescans would do the
// same. V8 takes --jitless only at start, so the service starts itself again
// in place (execve: the same pid and stdio, which systemd, runit and upstart
// track), with --jitless in NODE_OPTIONS, which the executable honours too,
// and --no-warnings: the executable's code cache, made for the JIT, is then
// refused with a warning printed before logjam's own warning handler is set
// (the handler still receives every later warning). Its children, the passes
// that do the work, get NODE_OPTIONS back as it was.
import type { Logger } from './log.js';
import { selfCommand } from './self-command.js';

/** Set in the restarted service: the NODE_OPTIONS its children get back. logjam's own plumbing, not a setting. */
export const LEAN_SERVICE_ENV = 'LOGJAM_LEAN_SERVICE';
const LEAN_OPTIONS = '--jitless --no-warnings';

type Execve = (file: string, args: string[], env: Record<string, string>) => never;

const execveOf = (): Execve | undefined => (process as unknown as { execve?: Execve }).execve;

/**
 * Whether this Node can: it has process.execve (Node 22.15 and later), and
 * its V8 takes --jitless in silence (13 and later, Node 24: V8 12 prints
 * "Warning: disabling flag --expose_wasm due to conflicting flags" at every
 * start, which cron would mail, and no flag NODE_OPTIONS allows quiets it).
 */
export function leanServiceSupported(): boolean {
  return typeof execveOf() === 'function' && Number(process.versions.v8.split('.')[0]) >= 13;
}

/**
 * Called once, as the service starts and before it opens or locks anything.
 * The first time: restarts this process with the JIT off; it does not return
 * unless Node cannot (leanServiceSupported), and then the service runs as it
 * is. In the restarted process: puts NODE_OPTIONS back as it was, so that the
 * children it starts compile as usual.
 */
export function becomeLeanService(log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  const saved = env[LEAN_SERVICE_ENV];
  if (saved !== undefined) {
    delete env[LEAN_SERVICE_ENV];
    if (saved) env.NODE_OPTIONS = saved;
    else delete env.NODE_OPTIONS;
    return;
  }
  const execve = execveOf();
  if (!execve || !leanServiceSupported()) return;
  const { file, args } = selfCommand();
  const kept = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  try {
    execve.call(process, file, [file, ...args], {
      ...kept,
      NODE_OPTIONS: [env.NODE_OPTIONS, LEAN_OPTIONS].filter(Boolean).join(' '),
      [LEAN_SERVICE_ENV]: env.NODE_OPTIONS ?? '',
    });
  } catch (error) {
    log.debug(`the service keeps V8's JIT: it could not start itself again (${(error as Error).message})`);
  }
}
