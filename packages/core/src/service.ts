// The two ways of running: one pass (--once, from cron), or a service that
// reacts to new files and to the clock, with a periodic rescan as a safety net.
import { formatAge } from './check.js';
import type { Logger } from './log.js';
import { ResourceStack } from './resources.js';
import { watchDirs, type WatchEvent } from './watch.js';

export interface PassResult {
  /** 0 when everything due was done, 1 when any file failed. */
  exitCode: number;
  /** When (epoch ms) the next file that is not yet due becomes due, if known. */
  nextDueAt?: number | undefined;
  /** The service ends with this pass and its exit code (a configuration error it said itself). */
  final?: boolean | undefined;
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
  const resources = new ResourceStack();
  resources.defer(
    onStopSignals((signal) => {
      if (stop.signal.aborted) return;
      log.info(`received ${signal}; finishing the work in progress, then exiting`);
      stop.abort();
    }),
  );
  try {
    const wakes = resources.use(new Wakes(options), (wakes) => wakes.close());
    // Watching begins before the first pass: what appears during a pass wakes the next one at once.
    resources.use(await watchDirs(options.watchDirs, wakes.onChange, log), (watcher) => watcher.close());
    const ended = await serve(options, stop.signal, wakes);
    if (ended !== undefined) return ended;
  } finally {
    await resources.close();
  }
  log.info('stopped');
  return 0;
}

/** The service's passes: one, then the next when woken by a change or when the interval (or the next file due) comes; a final pass's exit code. */
async function serve(options: ServiceOptions, stop: AbortSignal, wakes: Wakes): Promise<number | undefined> {
  const now = options.now ?? Date.now;
  while (!stop.aborted) {
    wakes.pending = false;
    const result = await options.pass(stop);
    if (result.final) return result.exitCode;
    if (stop.aborted) break;
    if (wakes.pending) continue;
    let delay = options.intervalMs;
    if (result.nextDueAt !== undefined) delay = Math.min(delay, Math.max(0, result.nextDueAt - now()) + 1000);
    await wakes.sleep(delay, stop);
  }
}

/** What wakes the service between passes: relevant changes (gathered, then delayed by --splay), the clock, a stop. */
class Wakes {
  /** A change came since the pass began: the next pass starts at once. */
  pending = false;
  private wake: (() => void) | null = null;
  private debounce: NodeJS.Timeout | undefined;
  /** A reaction waiting out its --splay delay. */
  private reaction: NodeJS.Timeout | undefined;

  constructor(private readonly options: ServiceOptions) {}

  readonly onChange = (path: string, event: WatchEvent): void => {
    if (this.options.isRelevant && !this.options.isRelevant(path, event)) return;
    this.options.log.debug('change seen', { path });
    clearTimeout(this.debounce);
    this.debounce = setTimeout(this.react, this.options.debounceMs ?? 250);
  };

  private readonly trigger = (): void => {
    this.options.log.debug('new files: a pass is due');
    this.pending = true;
    this.wake?.();
  };

  private readonly react = (): void => {
    const delay = this.options.reactionDelayMs ?? 0;
    if (delay <= 0) return this.trigger();
    if (this.reaction) return;
    this.options.log.info(`new files; reacting after this host's splay of ${formatAge(delay)}`);
    this.reaction = setTimeout(() => {
      this.reaction = undefined;
      this.trigger();
    }, delay);
  };

  /** Waits `delay`, until a change wakes it, or until `stop`. */
  sleep(delay: number, stop: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stop.removeEventListener('abort', done);
        this.wake = null;
        resolve();
      };
      // While a reaction waits out its splay, the rescan waits with it (else it would upload at once).
      const timer = setTimeout(() => (this.reaction ? undefined : done()), Math.min(delay, MAX_TIMER_MS));
      stop.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  close(): void {
    clearTimeout(this.debounce);
    clearTimeout(this.reaction);
  }
}
