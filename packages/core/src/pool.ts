// The worker pool both tools' passes use: `workers` loops, each taking the
// next item until there is none (or the pass stops taking).

/** Runs `work` on `workers` concurrent loops, each taking the next item from `next` until it gives undefined. */
export async function runWorkers<T>(
  workers: number,
  next: () => T | undefined,
  work: (item: T) => Promise<void>,
): Promise<void> {
  const loop = async () => {
    for (let item = next(); item !== undefined; item = next()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
}

/** Runs `fn` over `items`, at most `limit` at once; starts nothing new once `signal` aborts. */
export async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let index = 0;
  const next = () => (index < items.length && !signal.aborted ? { item: items[index++]! } : undefined);
  await runWorkers(Math.min(limit, items.length), next, ({ item }) => fn(item));
}
