// Crash points from strace: a built binary run under `strace -f`, either to
// count its calls of some syscalls, or to be killed (SIGKILL) on entry to the
// N-th one (`-e inject=SYSCALL:signal=KILL:when=N`): before that call takes
// effect, so the state left is exactly the one after the calls before it.
//
// Three facts shape how the tests use it:
// - `when=N` counts per thread, not per process. So the binaries run with one
//   libuv worker thread (UV_THREADPOOL_SIZE=1, --jobs 1), which then issues
//   the pool's file-system calls of the protocol, in program order.
// - The main thread issues openat and write too (loading the program, the log
//   lines; the worker's wake-ups of the event loop are writes to an eventfd,
//   as many as timing makes them). Those two are counted only on the paths
//   given with -P (strace counts, for injection, only the calls it traces).
//   logjam-upload opens archives and creates markers on the main thread
//   itself: there each thread's calls are counted on the paths it alone
//   touches (callPaths names them).
// - logjam reaches into a directory it holds open through /proc/self/fd/FD/NAME.
//   traceBin rewrites such a path to the directory's own (the one its openat
//   returned FD for), so a trace names files as the tests know them. -P
//   matches a path argument as written: each path given is also given as
//   /proc/self/fd/FD/NAME for every FD a held directory may have.
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaries, startBin, waitFor, type BinaryName, type RunResult } from './index.ts';

/**
 * Traced runs: one libuv thread, so that the N-th call of a syscall is one
 * thread's N-th; and no compile cache (Node >= 22), whose own mkdir and writes
 * are Node's, not the protocol's, and come from another thread.
 */
const TRACED_ENV = { UV_THREADPOOL_SIZE: '1', NODE_DISABLE_COMPILE_CACHE: '1' };

export const hasStrace = spawnSync('strace', ['-V'], { stdio: 'ignore' }).status === 0;
export const NO_STRACE = 'skipped: strace is not installed (apt-get install strace to run it)';

/** Syscalls only the worker thread makes: counted on every path. */
export const WORKER_SYSCALLS = [
  'pwrite64',
  'fsync',
  'fdatasync',
  'link',
  'linkat',
  'unlink',
  'unlinkat',
  'rename',
  'renameat',
  'renameat2',
  'mkdir',
  'mkdirat',
];
/** Syscalls the main thread makes too: counted only on the paths given (-P). */
export const SHARED_SYSCALLS = ['open', 'openat', 'write'];

export interface TraceOptions {
  env?: NodeJS.ProcessEnv;
  /** Replace the environment instead of adding to it. */
  cleanEnv?: boolean;
  /** The syscalls to trace (and count). */
  syscalls: string[];
  /** Trace only calls on these paths (by name or by an open descriptor). */
  paths?: string[];
  /** Kill on entry to the n-th call of `syscall`. */
  kill?: { syscall: string; n: number };
}

export interface TracedRun extends RunResult {
  /** strace's output: one line per call, `TID name(args...) = result`, descriptors shown with their paths (-y). */
  trace: string[];
}

let runs = 0;

/** Each path, and the names it has through every /proc/self/fd/FD a held directory may have (-P matches a path as written). */
function heldPaths(paths: string[]): string[] {
  return paths.flatMap((p) => [p, ...HELD_FDS.map((fd) => `/proc/self/fd/${fd}/${path.basename(p)}`)]);
}

/** Runs a binary to its end (or its kill) under strace. */
export async function traceBin(name: BinaryName, args: string[], options: TraceOptions): Promise<TracedRun> {
  const out = path.join(os.tmpdir(), `logjam-strace-${process.pid}-${(runs += 1)}.txt`);
  // openat too, always: its results say which directory each /proc/self/fd/FD is.
  const traced = [...new Set([...options.syscalls, 'openat'])];
  const paths = heldPaths(options.paths ?? []);
  const straceArgs = [
    '-f',
    '-qq',
    '-y',
    '-o',
    out,
    ...paths.flatMap((p) => ['-P', p]),
    '-e',
    `trace=${traced.join(',')}`,
  ];
  if (options.kill) straceArgs.push('-e', `inject=${options.kill.syscall}:signal=KILL:when=${options.kill.n}`);
  const base = options.cleanEnv ? { PATH: process.env.PATH, HOME: process.env.HOME } : process.env;
  const child = spawn('strace', [...straceArgs, process.execPath, binaries[name], ...args], {
    env: { ...base, ...options.env, ...TRACED_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const raw = (await fs.readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean);
  await fs.rm(out, { force: true });
  const wanted = new Set(options.syscalls);
  const trace = withHeldPaths(raw).filter((line) => wanted.has(CALL.exec(line)?.[2] ?? ''));
  return { code, signal, stdout, stderr, trace };
}

/** The descriptors a directory held open may have (Node itself opens about 20 first). */
const HELD_FDS = Array.from({ length: 61 }, (_, i) => i + 3);

/** A directory opened: `openat(..., O_...DIRECTORY...) = FD</its/path>`. */
const OPENED_DIR = /^\d+ +openat\(.*O_DIRECTORY.*\) += (\d+)<([^>]*)>$/;

/** The trace with every /proc/self/fd/FD replaced by the directory FD was opened on at that point of the run. */
function withHeldPaths(trace: string[]): string[] {
  const dirs = new Map<string, string>();
  return trace.map((line) => {
    const shown = line.replace(/\/proc\/self\/fd\/(\d+)(?=[/"])/g, (whole, fd: string) => dirs.get(fd) ?? whole);
    const opened = OPENED_DIR.exec(line);
    if (opened) dirs.set(opened[1]!, opened[2]!);
    return shown;
  });
}

/** A call's line: its thread, its name, its arguments (the rest). `<... resumed>` lines are not calls. */
const CALL = /^(\d+) +(\w+)\((.*)$/;

/** How many calls of each syscall a trace holds, and by how many threads. */
export function countCalls(trace: string[]): Map<string, { calls: number; threads: Set<string>; lines: string[] }> {
  const counts = new Map<string, { calls: number; threads: Set<string>; lines: string[] }>();
  for (const line of trace) {
    const m = CALL.exec(line);
    if (!m) continue;
    const entry = counts.get(m[2]!) ?? { calls: 0, threads: new Set(), lines: [] };
    entry.calls += 1;
    entry.threads.add(m[1]!);
    entry.lines.push(line);
    counts.set(m[2]!, entry);
  }
  return counts;
}

/**
 * The calls of a syscall in a killed run, split by thread: those of the thread
 * that made the first one (the protocol's, as the clean run showed) and those
 * of any other. When SIGKILL ends the process, strace may print the call another
 * thread was entering at that instant as `<unfinished ...>`; such a call never
 * returned, so it is no call of the protocol, and it must not shift the count.
 */
export function callsByFirstThread(trace: string[], syscall: string): { ours: string[]; others: string[] } {
  const lines = countCalls(trace).get(syscall)?.lines ?? [];
  const first = CALL.exec(lines[0] ?? '')?.[1];
  return {
    ours: lines.filter((line) => CALL.exec(line)![1] === first),
    others: lines.filter((line) => CALL.exec(line)![1] !== first),
  };
}

/** A call strace saw begin but never saw return (the process died in it). */
export const isUnfinished = (line: string): boolean => line.endsWith('<unfinished ...>');

/** The thread that made a call. */
export const threadOf = (line: string): string | undefined => CALL.exec(line)?.[1];

/** How callPaths names a path reached through a held directory the trace does not resolve: `<held>/NAME`. */
export const HELD = '<held>';

/**
 * The paths under `root` a call names, relative to it (the result's `= FD</path>`
 * left out); one through a directory held open that the trace did not see
 * opened (/proc/self/fd/FD/NAME) as `<held>/NAME`.
 */
export function callPaths(line: string, root: string): string[] {
  const m = CALL.exec(line);
  if (!m) return [];
  const args = m[3]!.replace(/\) += .*$| <unfinished \.\.\.>$/, '');
  return [...args.matchAll(/"([^"]*)"|<([^>]*)>/g)]
    .map((p) => p[1] ?? p[2]!)
    .flatMap((p) => {
      if (p.startsWith(root)) return [path.relative(root, p) || '.'];
      const held = /^\/proc\/self\/fd\/\d+\/([^/]+)$/.exec(p);
      return held ? [`${HELD}/${held[1]}`] : [];
    });
}

/**
 * A call's syscall and the last component of each path it names, however it
 * reached them (by name, or through a held directory the trace resolved or
 * not): the same call in runs that trace different paths.
 */
export function callShape(line: string, root: string): string {
  const m = CALL.exec(line);
  if (!m) return line;
  const names = callPaths(line, root).map((p) =>
    (p === '.' ? path.basename(root) : path.basename(p)).replace(/\.logjam-[\w-]+\.\d+\.[0-9a-f]+\.tmp$/, '<tmp>'),
  );
  return `${m[2]}(${names.join(', ')})`;
}

/** A call as a reader wants it in a report: the name and its first path, relative to `root`, temporary names folded. */
export function describeCall(line: string, root: string): string {
  const m = CALL.exec(line);
  if (!m) return line;
  // The arguments only: the result (`= 18</path>`) names the descriptor opened.
  const shown = callPaths(line, root)
    .filter((p) => !p.startsWith(HELD))
    .map((p) => p.replace(/\.logjam-[\w-]+\.\d+\.[0-9a-f]+\.tmp$/, '<tmp>'));
  return `${m[2]}(${shown.join(', ')})`;
}

/**
 * A barrier without a test seam: starts a binary under strace, which stops it
 * (SIGSTOP) at the n-th call of `syscall`. Unlike SIGKILL, which ends it before
 * the call takes effect, a stop is delivered once the call has been made.
 * With `at.path`, only the calls on that path count.
 * Resolves once it is stopped there; `resume()` lets it go on (SIGCONT). The
 * child is strace itself: waitExit() works on it as on startBin's.
 */
export async function startStopped(
  name: BinaryName,
  args: string[],
  at: { syscall: string; n: number; /** Only calls on this path count (strace -P). */ path?: string },
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ child: ReturnType<typeof startBin>; pid: number; resume: () => void }> {
  const out = path.join(os.tmpdir(), `logjam-strace-${process.pid}-${(runs += 1)}.txt`);
  const child = spawn(
    'strace',
    [
      '-f',
      '-qq',
      '-o',
      out,
      '-e',
      `trace=${at.syscall}`,
      '-e',
      `inject=${at.syscall}:signal=STOP:when=${at.n}`,
      ...heldPaths(at.path ? [at.path] : []).flatMap((p) => ['-P', p]),
      process.execPath,
      binaries[name],
      ...args,
    ],
    {
      env: { ...process.env, ...options.env, ...TRACED_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const started = Object.assign(child, { output: () => ({ stdout, stderr }) }) as unknown as ReturnType<
    typeof startBin
  >;
  const stopped = await waitFor(
    async () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${name} ended before its ${at.syscall} #${at.n}:\n${stderr}`);
      return (await fs.readFile(out, 'utf8').catch(() => ''))
        .split('\n')
        .find((line) => line.includes('--- stopped by SIGSTOP ---'));
    },
    { timeoutMs: 30_000, intervalMs: 20, what: `${name} stopped at its ${at.syscall} #${at.n}` },
  );
  // The line names the thread that made the call; signals go to its process.
  const thread = /^(\d+)/.exec(stopped)![1];
  const pid = Number(/^Tgid:\s*(\d+)/m.exec(await fs.readFile(`/proc/${thread}/status`, 'utf8'))![1]);
  child.once('close', () => void fs.rm(out, { force: true }));
  return { child: started, pid, resume: () => process.kill(pid, 'SIGCONT') };
}
