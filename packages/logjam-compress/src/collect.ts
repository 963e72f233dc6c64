// A pass's short-lived buffers (each block's deflate output, the
// verification's inflate output: about a gigabyte of them per gigabyte
// compressed) are freed only by a garbage collection, and Node 24's V8 starts
// one for such memory only after 64 MB more of it: compressing 1 GB of logs
// then peaked at 157 MB. With `gc` exposed (--expose-gc,
// scripts/node-flags.mjs), logjam-compress collects sooner itself.
type Gc = (options?: { type?: 'major' | 'minor' }) => void;

const exposedGc = (): Gc | undefined => {
  const gc = (globalThis as { gc?: Gc }).gc;
  return typeof gc === 'function' ? gc : undefined;
};

/**
 * A counter of bytes that runs a young-generation collection each time
 * `every` more have passed: for buffers that die as soon as they are used.
 * A no-op without `gc`.
 */
export function collectEvery(every: number): (bytes: number) => void {
  const gc = exposedGc();
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
): () => void {
  const gc = exposedGc();
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
