// A pass's short-lived buffers (each block's deflate output, the
// verification's inflate output: about a gigabyte of them per gigabyte
// compressed) are freed only by a garbage collection, and V8 starts one for
// such memory only after 64 MB more of it: Node 24 then peaked at 150 MB
// compressing a 1 GB log. With `gc` exposed (--expose-gc, scripts/node-flags.mjs),
// a collection after every `every` bytes keeps that to a few blocks.
type Gc = (options?: { type?: 'major' | 'minor' }) => void;

/** A counter of bytes that runs a collection of `type` each time `every` more have passed; a no-op without `gc`. */
export function collectEvery(every: number, type: 'major' | 'minor'): (bytes: number) => void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (typeof gc !== 'function') return () => undefined;
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < every) return;
    since = 0;
    gc({ type });
  };
}
