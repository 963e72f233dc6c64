// What a run holds (a lock, open folders, a client, watchers) released in the
// reverse order of taking, as AsyncDisposableStack does (Node 20 has none).
// Every release runs even when an earlier one throws; the first error is
// thrown after the last.

export class ResourceStack {
  private readonly releases: Array<() => unknown> = [];

  /** Takes `value` with the release that gives it back; returns `value`. Null and undefined need none. */
  use<T>(value: T, release: (value: NonNullable<T>) => unknown): T {
    if (value !== null && value !== undefined) this.releases.push(() => release(value));
    return value;
  }

  /** Runs `release` when the stack is closed, before anything taken earlier. */
  defer(release: () => unknown): void {
    this.releases.push(release);
  }

  /** Releases everything, the last taken first. */
  async close(): Promise<void> {
    let failure: { error: unknown } | undefined;
    for (let release = this.releases.pop(); release; release = this.releases.pop()) {
      try {
        await release();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }
}
