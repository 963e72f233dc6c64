// --splay: hosts started by the same cron minute (or seeing their hour close
// at the same second) spread their requests over a window instead of
// stampeding S3 together. Each host waits its own offset in the window,
// derived from its host name, so that it keeps the same slot run after run
// (a steady, predictable upload time per host) while the fleet spreads evenly.
import { createHash } from 'node:crypto';

/** This host's delay in [0, splaySeconds) seconds, in ms: the same for the same host name, spread uniformly across names. */
export function splayDelayMs(hostname: string, splaySeconds: number): number {
  if (splaySeconds <= 0) return 0;
  // 48 bits of a cryptographic hash: uniform across host names however alike they are (web-001, web-002, ...).
  const fraction = createHash('sha256').update(hostname).digest().readUIntBE(0, 6) / 2 ** 48;
  return Math.floor(fraction * splaySeconds * 1000);
}

/** Waits `ms`; resolves early, with false, when `signal` aborts (SIGTERM), true when the time has passed. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => finish(true), ms);
    const onAbort = () => finish(false);
    signal.addEventListener('abort', onAbort, { once: true });
    function finish(elapsed: boolean) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(elapsed);
    }
  });
}
