// The two ways of running: one pass (--once, from cron), or a service that
// reacts to new files and to the clock, with a periodic rescan as a safety net.
import { formatAge } from './check.js';
import type { Logger } from './log.js';
import { watchDirs, type DirWatcher, type EarlyWatch, type WatchEvent } from './watch.js';

export interface PassResult {
  /** 0 when everything due was done, 1 when any file failed. */
  exitCode: number;
  /** When (epoch ms) the next file that is not yet due becomes due, if known. */
  nextDueAt?: number | undefined;
}

export interface ServiceOptions {
  once: boolean;
  /** The safety-net rescan period in service mode. */
  intervalMs: number;
  /** Directories whose new files should wake the service. */
  watchDirs: string[];
  /** One pass over everything; it should finish or roll back its work soon after `signal` aborts. */
  pass(signal: AbortSignal): Promise<PassResult>;
  log: Logger;
  /** Which changed paths are worth a pass (default: all); `event` tells a new file from a write to an existing one. */
  isRelevant?: (path: string, event: WatchEvent) => boolean;
  /** Events arriving together (a burst of renames) are gathered into one pass. */
  debounceMs?: number;
  /**
   * --splay: how long to wait after a relevant change before the pass that
   * reacts to it (the host's offset, so that a fleet seeing its hour close
   * together does not react together). The periodic rescan waits for it too.
   */
  reactionDelayMs?: number;
  /** The watch on `watchDirs`, begun before the service (see watchEarly); else one is begun here. */
  earlyWatch?: EarlyWatch;
  /** Stops the service as SIGTERM does (for tests and embedding). */
  stop?: AbortSignal;
  now?: () => number;
}

/** Calls `handler` on SIGTERM and SIGINT (instead of exiting) until the function returned is called. */
export function onStopSignals(handler: (signal: NodeJS.Signals) => void): () => void {
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

// setTimeout's delay is a signed 32-bit number of milliseconds.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Runs once or forever; resolves with the exit code. */
export async function runService(options: ServiceOptions): Promise<number> {
  const stop = new AbortController();
  if (options.stop) {
    if (options.stop.aborted) stop.abort();
    options.stop.addEventListener('abort', () => stop.abort(), { once: true });
  }
  if (options.once) return (await options.pass(stop.signal)).exitCode;

  const { log } = options;
  const now = options.now ?? Date.now;
  const offSignals = onStopSignals((signal) => {
    if (stop.signal.aborted) return;
    log.info(`received ${signal}; finishing the work in progress, then exiting`);
    stop.abort();
  });

  let wake: (() => void) | null = null;
  let pending = false;
  let debounce: NodeJS.Timeout | undefined;
  /** A reaction waiting out its --splay delay. */
  let reaction: NodeJS.Timeout | undefined;
  const trigger = () => {
    pending = true;
    wake?.();
  };
  const react = () => {
    const delay = options.reactionDelayMs ?? 0;
    if (delay <= 0) return trigger();
    if (reaction) return;
    log.info(`new files; reacting after this host's splay of ${formatAge(delay)}`);
    reaction = setTimeout(() => {
      reaction = undefined;
      trigger();
    }, delay);
  };
  const onChange = (path: string, event: WatchEvent) => {
    if (options.isRelevant && !options.isRelevant(path, event)) return;
    log.debug('change seen', { path });
    clearTimeout(debounce);
    debounce = setTimeout(react, options.debounceMs ?? 250);
  };

  let watcher: DirWatcher | undefined;
  try {
    watcher = options.earlyWatch ? options.earlyWatch.take(onChange) : await watchDirs(options.watchDirs, onChange, log);
    while (!stop.signal.aborted) {
      pending = false;
      const result = await options.pass(stop.signal);
      if (stop.signal.aborted) break;
      if (pending) continue;
      let delay = options.intervalMs;
      if (result.nextDueAt !== undefined) delay = Math.min(delay, Math.max(0, result.nextDueAt - now()) + 1000);
      await new Promise<void>((resolve) => {
        // While a reaction waits out its splay, the rescan waits with it (else it would upload at once).
        const timer = setTimeout(() => (reaction ? undefined : done()), Math.min(delay, MAX_TIMER_MS));
        stop.signal.addEventListener('abort', done, { once: true });
        wake = done;
        function done() {
          clearTimeout(timer);
          stop.signal.removeEventListener('abort', done);
          wake = null;
          resolve();
        }
      });
    }
  } finally {
    clearTimeout(debounce);
    clearTimeout(reaction);
    await watcher?.close();
    offSignals();
  }
  log.info('stopped');
  return 0;
}
