// Watching directories for new files: one inotify watch per directory
// (fs.watch), whatever the number of files in it. Idle, it costs no CPU.
//
// A watch per directory, not per file (as chokidar 5 keeps, statting each at
// start): over an archive/ of 100,000 uploaded files that would be 100,002
// inotify watches (the per-user limit is 8,192 on many kernels), 12 s of CPU
// at start and 500 MB of RSS (measured with chokidar). The services only need to be
// woken when a name appears; the periodic rescan covers anything a watch misses
// (an overflowed event queue, a directory that was replaced).
import { watch, promises as fs, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Logger } from './log.js';

export interface DirWatcher {
  close(): Promise<void>;
}

/** 'add': a name appeared (created, linked or renamed into the directory); 'change': an existing file was written. */
export type WatchEvent = 'add' | 'change';

/**
 * Resolves true once `dir` exists (as anything: the caller checks what it is), false if `signal` aborts first.
 * Woken by a watch on its parent, set up before each look so that nothing falls between; `pollMs` is the
 * safety net (a parent that does not exist yet, a watch that cannot be made).
 */
export async function waitForDir(dir: string, options: { signal: AbortSignal; pollMs: number }): Promise<boolean> {
  const { signal } = options;
  while (!signal.aborted) {
    let wake = () => {};
    const woken = new Promise<void>((resolve) => (wake = resolve));
    let parent: FSWatcher | undefined;
    try {
      parent = watch(path.dirname(dir), { persistent: true }, (_event, name) => {
        if (name?.toString() === path.basename(dir)) wake();
      });
      parent.on('error', wake);
    } catch {
      // No parent yet, or no watch to be had: the poll finds it.
    }
    try {
      if (await exists(dir)) return true;
      const timer = setTimeout(wake, options.pollMs);
      signal.addEventListener('abort', wake, { once: true });
      await woken;
      clearTimeout(timer);
      signal.removeEventListener('abort', wake);
    } finally {
      parent?.close();
    }
  }
  return false;
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

/** Calls `onChange(path, event)` for every file added or changed directly inside `dirs`. */
export async function watchDirs(
  dirs: string[],
  onChange: (path: string, event: WatchEvent) => void,
  log: Logger,
): Promise<DirWatcher> {
  const watchers: FSWatcher[] = [];
  for (const dir of dirs) {
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: true }, (event, name) => {
        if (!name) return; // no name (never seen on Linux): the periodic rescan covers it
        const file = path.join(dir, name.toString());
        if (event === 'change') {
          onChange(file, 'change');
          return;
        }
        // 'rename' is both a name appearing and one going away: only the first wakes the service.
        fs.lstat(file).then(
          () => onChange(file, 'add'),
          () => {},
        );
      });
    } catch (error) {
      // Out of inotify watches (ENOSPC), say: the service still works, at the pace of its rescans.
      log.warn('cannot watch the folder; new files are found by the periodic rescan only', {
        dir,
        error: String(error),
      });
      continue;
    }
    watcher.on('error', (error) =>
      log.warn('file watcher error; the periodic rescan still runs', { dir, error: String(error) }),
    );
    watchers.push(watcher);
  }
  return {
    close: async () => {
      for (const watcher of watchers.splice(0)) watcher.close();
    },
  };
}
