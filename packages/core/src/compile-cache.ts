// Node's compile cache (module.enableCompileCache, Node >= 22.1): V8's compiled
// code of the bundles is kept on disk and reused by the next start, instead of
// compiling them again on every cron run. Called by launch() (threadpool.ts),
// before the program loads. No imports beyond Node built-ins: this runs on every start.
//
// logjam often runs as root: a cache another user can write would let them
// hand root compiled code. So the folder is the user's own, under the temp
// folder, one per uid (logjam-compile-cache-<uid>), made 0700 by us; if it is
// anything else (a link, another owner, group- or world-writable) the run
// simply goes without. Any failure only costs the speed-up.
import { lstatSync, mkdirSync } from 'node:fs';
import module from 'node:module';
import os from 'node:os';
import path from 'node:path';

/** The compile cache folder of the user `uid`: one per user, under the temp folder. */
export function compileCacheDir(tmpdir: string, uid: number): string {
  return path.join(tmpdir, `logjam-compile-cache-${uid}`);
}

/** Whether a folder with this lstat may hold the compiled code this process runs: a real directory, ours, writable by us alone. */
export function isPrivateDir(stats: { isDirectory(): boolean; uid: number; mode: number }, uid: number): boolean {
  return stats.isDirectory() && stats.uid === uid && (stats.mode & 0o022) === 0;
}

type EnableCompileCache = (dir: string) => { status: number; message?: string; directory?: string };

/** Turns on Node's compile cache in the user's private folder, where Node has it (>= 22.1) and NODE_DISABLE_COMPILE_CACHE is unset. */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): void {
  const enable = (module as unknown as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable !== 'function' || env.NODE_DISABLE_COMPILE_CACHE || typeof process.getuid !== 'function') return;
  const uid = process.getuid();
  const dir = compileCacheDir(os.tmpdir(), uid);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch {
    // It exists (checked below), or cannot be made: either way, go on.
  }
  try {
    if (isPrivateDir(lstatSync(dir), uid)) enable(dir);
  } catch {
    // No folder, or Node could not use it: start without the cache.
  }
}
