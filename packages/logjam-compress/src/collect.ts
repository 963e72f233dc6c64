// A pass's short-lived buffers (each block's deflate output, the
// verification's inflate output: about a gigabyte of them per gigabyte
// compressed) are freed only by a garbage collection, and Node 24's V8 starts
// one for such memory only after 64 MB more of it: compressing 1 GB of logs
// then peaked at 157 MB. logjam-compress collects sooner itself, with V8's
// `gc`: taken from a fresh context with --expose-gc set for that moment only,
// not given on the command line, because any V8 flag there makes Node compile
// its built-in modules again at every start (its cache of them is for no flags).
import v8 from 'node:v8';
import vm from 'node:vm';

export type Gc = (options?: { type?: 'major' | 'minor' }) => void;

let gcOnce: Gc | null | undefined;

/** V8's `gc` (the global one when node was started with --expose-gc), or null where it cannot be had. */
export function exposedGc(): Gc | null {
  if (gcOnce !== undefined) return gcOnce;
  const global = (globalThis as { gc?: unknown }).gc;
  if (typeof global === 'function') return (gcOnce = global as Gc);
  try {
    v8.setFlagsFromString('--expose-gc');
    const fromContext: unknown = vm.runInNewContext('gc');
    gcOnce = typeof fromContext === 'function' ? (fromContext as Gc) : null;
  } catch {
    gcOnce = null;
  } finally {
    // Back to no flags: the built-in modules loaded after this still match Node's cache of them.
    v8.setFlagsFromString('--no-expose-gc');
  }
  return gcOnce;
}

/**
 * A counter of bytes that runs a young-generation collection each time
 * `every` more have passed: for buffers that die as soon as they are used.
 * A no-op without `gc`.
 */
export function collectEvery(every: number, gc: Gc | null = exposedGc()): (bytes: number) => void {
  if (!gc) return () => undefined;
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since = 0;
    gc({ type: 'minor' });
  };
}

/**
 * A check, to call once a block, that runs a full collection when the
 * process's Buffers (process.memoryUsage().arrayBuffers) have grown `slack`
 * beyond what is live (what the last collection left, or the least seen
 * since), and are above `limit`: a block's output lives long enough to be
 * promoted, so only a full collection frees it. It costs a mark of the heap,
 * so Buffers that are live (a collection frees nothing: Node 20's peaks) move
 * the mark up instead of collecting at every block. A no-op without `gc`.
 */
export function collectAbove(
  limit: number,
  slack: number,
  arrayBuffers = (): number => process.memoryUsage().arrayBuffers,
  gc: Gc | null = exposedGc(),
): () => void {
  if (!gc) return () => undefined;
  let mark = limit;
  return () => {
    const now = arrayBuffers();
    if (now > mark) {
      gc({ type: 'major' });
      mark = Math.max(limit, arrayBuffers() + slack);
    } else mark = Math.max(limit, Math.min(mark, now + slack));
  };
}
