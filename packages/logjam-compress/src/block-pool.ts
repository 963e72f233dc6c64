// The BlockPool the files of a pass share, and the scheduler that runs a
// file's blocks through it: zlib work on libuv's threadpool, at most one block
// per --jobs at once, a bounded number of blocks in memory, results in order.

/** A counting semaphore. */
class Semaphore {
  private waiting: Array<() => void> = [];
  constructor(private free: number) {}
  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free -= 1;
    return true;
  }
  async acquire(): Promise<void> {
    if (this.tryAcquire()) return;
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

/**
 * What the files of a pass share: `cpu` zlib operations (deflate of a block,
 * or the inflate of an archive being verified) at once, one per --jobs; and at most `cpu + 2`
 * blocks in memory (read and waiting, compressing, or waiting to be written
 * in order), so memory is bounded by the block size whatever the file sizes,
 * and a core never waits for a read, a write or another file's fsync.
 */
export class BlockPool {
  readonly cpu: Semaphore;
  readonly memory: Semaphore;
  readonly blocks: number;
  /** Block buffers given back, reused: a fresh buffer per block would leave hundreds of MB of garbage between two GCs. */
  private spare: Buffer[] = [];
  constructor(jobs: number) {
    this.cpu = new Semaphore(Math.max(1, jobs));
    this.blocks = Math.max(1, jobs) + 2;
    this.memory = new Semaphore(this.blocks);
  }
  take(size: number): Buffer {
    const index = this.spare.findIndex((buffer) => buffer.length === size);
    return index >= 0 ? this.spare.splice(index, 1)[0]! : Buffer.allocUnsafeSlow(size);
  }
  give(buffer: Buffer): void {
    if (this.spare.length < this.blocks) this.spare.push(buffer);
  }
}

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

/**
 * Runs `count` steps (unknown in advance: `start` returns undefined past the
 * end) through the pool: each step starts when a block of memory is free
 * (its result computed on the threadpool, at most pool.cpu at once), and
 * `finish` takes the results strictly in order. A step never waits for memory
 * while one of its own results is ready to be finished, so files sharing the
 * pool cannot deadlock it.
 */
export async function inOrder<T>(
  pool: BlockPool,
  signal: AbortSignal | undefined,
  start: (index: number) => Promise<{ task: Promise<T> } | undefined>,
  finish: (value: T, index: number) => Promise<void>,
): Promise<void> {
  const window: Array<Promise<T>> = [];
  let started = 0;
  let finished = 0;
  let ended = false;
  try {
    for (;;) {
      if (signal?.aborted) throw abortError();
      if (
        !ended &&
        window.length < pool.blocks &&
        (window.length === 0 ? (await pool.memory.acquire(), true) : pool.memory.tryAcquire())
      ) {
        let task: Promise<T> | undefined;
        try {
          task = (await start(started))?.task;
        } finally {
          if (!task) pool.memory.release();
        }
        if (!task) {
          ended = true;
          continue;
        }
        task.catch(() => {}); // Seen when finished; a later one failing first must not be unhandled.
        window.push(task);
        started += 1;
        continue;
      }
      const next = window.shift();
      if (!next) return;
      try {
        await finish(await next, finished);
      } finally {
        pool.memory.release();
      }
      finished += 1;
    }
  } finally {
    // On a failure, what is still running goes on to its end, then gives its memory back.
    for (const task of window)
      void task.then(
        () => pool.memory.release(),
        () => pool.memory.release(),
      );
  }
}
