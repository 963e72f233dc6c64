// Sizing libuv's threadpool from --jobs, for the binaries' CommonJS launchers.
//
// zlib, file reads and writes and fsyncs run on libuv's threadpool, 4 threads
// unless UV_THREADPOOL_SIZE says otherwise, so more simultaneous jobs than
// threads only wait for one. libuv reads that variable once, when the pool
// starts, and an ES-module entry point is too late to set it: Node's ESM loader
// already reads files through the pool, so the pool exists at its final size
// before the program's first line runs. So each binary's `bin` is a tiny
// CommonJS file (bundled by scripts/bundle.mjs from its src/launcher.ts) that
// calls launch(): it sizes the pool, and only then import()s the program, the
// ES-module bundle beside it. Where Node has one (>= 22.1), launch() also turns
// on the compile cache first (compile-cache.ts). No imports here but that one,
// which imports only Node built-ins: this runs on every start.
import { enableCompileCache } from './compile-cache.js';

/** libuv's own upper limit for UV_THREADPOOL_SIZE. */
export const MAX_THREADPOOL = 1024;
/** libuv's default size, and our floor. */
export const MIN_THREADPOOL = 4;

/** The --jobs value the command line (`--jobs N`, `--jobs=N`) or LOGJAM_JOBS gives, if any. */
export function requestedJobs(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (arg === '--jobs') return argv[i + 1];
    if (arg.startsWith('--jobs=')) return arg.slice('--jobs='.length);
  }
  return env.LOGJAM_JOBS || undefined;
}

/**
 * The pool size for a run: max(4, jobs + 2), at most 1024; jobs from the
 * command line, else LOGJAM_JOBS, else `defaultJobs()`. A value that is not a
 * positive integer counts as the default (the CLI then reports it as a usage error).
 */
export function threadpoolSize(argv: readonly string[], env: NodeJS.ProcessEnv, defaultJobs: () => number): number {
  const given = requestedJobs(argv, env);
  const parsed = given !== undefined && /^\s*\d+\s*$/.test(given) ? Number(given) : NaN;
  const jobs = parsed >= 1 ? parsed : defaultJobs();
  return Math.min(MAX_THREADPOOL, Math.max(MIN_THREADPOOL, jobs + 2));
}

/** Sets UV_THREADPOOL_SIZE for this process, unless the user already set it (an explicit value wins). */
export function sizeThreadpool(argv: readonly string[], env: NodeJS.ProcessEnv, defaultJobs: () => number): void {
  if (env.UV_THREADPOOL_SIZE) return;
  env.UV_THREADPOOL_SIZE = String(threadpoolSize(argv, env, defaultJobs));
}

/**
 * The launcher's work: sizes the threadpool for this command line, then loads
 * the program, `program` being a path relative to the launcher's own file.
 */
export function launch(program: string, defaultJobs: () => number): void {
  sizeThreadpool(process.argv.slice(2), process.env, defaultJobs);
  enableCompileCache();
  // A variable, so that neither tsc nor esbuild resolves it: it is the bundle beside the launcher.
  import(program).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
