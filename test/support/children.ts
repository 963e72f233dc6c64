// Every process a test starts dies with the test, pass or fail: a mocha root
// hook (in .mocharc.json's `require`) notes the test process's descendants
// before each test and kills, after it, every one that was not there before:
// the binaries, servers, strace and what they started, found through /proc so
// that no spawn helper can forget to register one. Processes started by a
// suite's before(), and what they start, are killed at the end of the run. Without this, a failing
// service-mode test left its logjam-upload running and mocha waited on it.
import { readdirSync, readFileSync } from 'node:fs';

interface Proc {
  pid: number;
  ppid: number;
  zombie: boolean;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, ppid: Number(ppid), zombie: state === 'Z' };
  } catch {
    return undefined;
  }
}

/**
 * The live processes descended from `root` (children, grandchildren, …), by /proc;
 * not those of a process in `beyond`, nor below it (what a server started in a
 * before() starts is that server's: a container's services, say).
 */
export function descendants(root = process.pid, beyond: ReadonlySet<number> = new Set()): Set<number> {
  const children = new Map<number, Proc[]>();
  for (const name of readdirSync('/proc')) {
    const proc = /^\d+$/.test(name) ? readProc(Number(name)) : undefined;
    if (proc) children.set(proc.ppid, [...(children.get(proc.ppid) ?? []), proc]);
  }
  const found = new Set<number>();
  // tsx's esbuild service compiles test files for the whole run: the runner's, not a test's.
  const runner = (pid: number) => commandLine(pid).includes('esbuild --service');
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift()!) ?? []) {
      if (beyond.has(child.pid)) continue;
      if (!child.zombie && !runner(child.pid)) found.add(child.pid);
      queue.push(child.pid);
    }
  }
  return found;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim().slice(0, 160);
  } catch {
    return '?';
  }
}

/** SIGKILLs the descendants not in `keep` nor below it, all at once (so that a child's own children cannot be reparented away first); returns what was killed. */
export function killDescendants(keep: ReadonlySet<number> = new Set()): string[] {
  const doomed = [...descendants(process.pid, keep)];
  const killed: string[] = [];
  for (const pid of doomed) {
    const command = commandLine(pid);
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(`${pid} ${command}`);
    } catch {
      // Exited meanwhile.
    }
  }
  return killed;
}

let before = new Set<number>();

function report(what: string, killed: string[]): void {
  if (killed.length)
    console.error(
      `      killed ${killed.length} process(es) left running by ${what}:\n${killed.map((k) => `        ${k}`).join('\n')}`,
    );
}

export const mochaHooks = {
  beforeEach(): void {
    before = descendants();
  },
  afterEach(this: Mocha.Context): void {
    report(`"${this.currentTest?.fullTitle() ?? '?'}"`, killDescendants(before));
  },
  afterAll(): void {
    report('the suites (started in a before hook)', killDescendants());
  },
};
