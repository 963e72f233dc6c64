// What every integration test needs: a fresh temporary directory, the built
// binaries run as a user runs them, and bounded waiting instead of sleeps.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const binaries = {
  'logjam-compress': path.join(repoRoot, 'packages/logjam-compress/bin/logjam-compress.cjs'),
  'logjam-upload': path.join(repoRoot, 'packages/logjam-upload/bin/logjam-upload.cjs'),
} as const;
export type BinaryName = keyof typeof binaries;

/** The compact stamp YYYYMMDDTHHMMZ of a UTC instant: names log files as their writers do. */
export function compactStamp(time: number): string {
  const d = new Date(time);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}Z`;
}

/** A new empty directory under the system temp dir; removed by `cleanupTmpDirs`. */
const made: string[] = [];
export async function tmpDir(label = 'logjam-test-'): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), label));
  made.push(dir);
  return dir;
}
export async function cleanupTmpDirs(): Promise<void> {
  while (made.length) await fs.rm(made.pop()!, { recursive: true, force: true });
}

/**
 * A file to preload with `--import` (NODE_OPTIONS) that registers `resolver`, the source of a
 * module resolution hook (an ES module exporting `resolve`): `name`, in a new temp dir.
 */
export async function resolveHookFile(name: string, resolver: string): Promise<string> {
  const file = path.join(await tmpDir(), name);
  await fs.writeFile(
    file,
    `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(resolver)}`)});\n`,
  );
  return file;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Replace the environment instead of adding to it. */
  cleanEnv?: boolean;
  cwd?: string;
  input?: string;
  /** The test fails if the process is still running after this (default 60 s). */
  timeoutMs?: number;
}

function childEnv(options: RunOptions): NodeJS.ProcessEnv {
  return options.cleanEnv
    ? { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env }
    : { ...process.env, ...options.env };
}

/** Starts a binary (for service-mode tests); the caller must stop it. */
export function startBin(
  name: BinaryName,
  args: string[],
  options: RunOptions = {},
): ChildProcess & { output(): { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, [binaries[name], ...args], {
    cwd: options.cwd,
    env: childEnv(options),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin!.end(options.input);
  else child.stdin!.end();
  return Object.assign(child, { output: () => ({ stdout, stderr }) });
}

/** Waits for a started binary to exit. */
export function waitExit(child: ReturnType<typeof startBin>, timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process still running after ${timeoutMs} ms\n${child.output().stderr}`));
    }, timeoutMs);
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ code, signal, ...child.output() });
    };
    if (child.exitCode !== null || child.signalCode !== null) return finish(child.exitCode, child.signalCode);
    child.once('close', finish);
  });
}

/** Runs a binary to completion, as a user at a shell would. */
export async function runBin(name: BinaryName, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return waitExit(startBin(name, args, options), options.timeoutMs);
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'condition'}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** A fresh `archive` folder (in a temporary one) holding `files`, name to content. */
export async function makeArchiveDir(files: Record<string, string | Buffer> = {}): Promise<string> {
  const dir = path.join(await tmpDir(), 'archive');
  await fs.mkdir(dir);
  for (const [name, content] of Object.entries(files)) await fs.writeFile(path.join(dir, name), content);
  return dir;
}

export async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

/** logjam-upload's store profile, beside the markers in .uploaded/ (tests of its own look for it by name). */
export const STORE_PROFILE = '.logjam-store-profile.json';

/** Sorted entries of a directory, but for the store profile: what a test lists is the markers and the archives. */
export async function ls(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((name) => name !== STORE_PROFILE).sort();
}

/** `size` bytes that repeat nowhere (a multiplicative hash of the offset), so that a part or range sent out of place changes the MD5. */
export function patternedBytes(size: number, multiplier = 2654435761): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i + 4 <= bytes.length; i += 4) bytes.writeUInt32LE((i * multiplier) >>> 0, i);
  return bytes;
}

/**
 * A running process whose command line names `program` (as a running
 * logjam's does), to hold a lock; the caller kills it.
 */
export function startLockHolder(program: string): ChildProcess & { pid: number } {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)', program], { stdio: 'ignore' });
  return child as ChildProcess & { pid: number };
}

/** The numbers of logjam-upload's last `pass done` line, checked to add up: pending = uploaded + already + conflicts + failed + left. */
export function passCounts(stderr: string): Record<string, number> {
  const line = stderr
    .split('\n')
    .filter((l) => / pass done /.test(l))
    .pop();
  if (!line) throw new Error(`no pass summary in:\n${stderr}`);
  const counts: Record<string, number> = {};
  for (const [, key, value] of line.matchAll(/ (\w+)=(\d+)(?= |$)/g)) counts[key!] = Number(value);
  expect(counts.pending, line).to.equal(
    counts.uploaded! + counts.already! + counts.conflicts! + counts.failed! + counts.left!,
  );
  return counts;
}
