// Watching directories for new files. chokidar uses inotify here: idle, it costs no CPU.
// Loaded only when a service starts watching: --once, --check and --help never need it.
import type { Logger } from './log.js';

export interface DirWatcher {
  close(): Promise<void>;
}

export type WatchEvent = 'add' | 'change';

/** Calls `onChange(path, event)` for every file added or changed directly inside `dirs`. */
export async function watchDirs(dirs: string[], onChange: (path: string, event: WatchEvent) => void, log: Logger): Promise<DirWatcher> {
  const { watch } = await import('chokidar');
  const watcher = watch(dirs, {
    ignoreInitial: true,
    depth: 0,
    followSymlinks: false,
    persistent: true,
  });
  watcher.on('add', (path) => onChange(path, 'add'));
  watcher.on('change', (path) => onChange(path, 'change'));
  watcher.on('error', (error) => log.warn('file watcher error; the periodic rescan still runs', { error: String(error) }));
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return { close: () => watcher.close() };
}
