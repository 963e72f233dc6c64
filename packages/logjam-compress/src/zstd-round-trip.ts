// The verification of a zstd archive while it is written: each piece of the
// frame, as the compressor gives it, goes through a decompressor, and what
// comes out is compared byte for byte with the source's bytes, held in
// memory from their read until then (a write is flushed, so a piece gives
// back all of its write: the source held is about one write). No second read
// of the source, no checksum of it: the decompressed bytes are the source's
// exact bytes, or the round trip fails.
import type { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';

/** The source's bytes not yet given back by the decompression, in order. Pure: no I/O. */
export class HeldSource {
  private chunks: Buffer[] = [];
  /** For each chunk held, what to call once it is all given back. */
  private releases: Array<(() => void) | undefined> = [];
  /** Bytes given back and found equal. */
  matched = 0;
  /** The first difference, once one is found. */
  mismatch: string | undefined;

  /** Holds `chunk`, the source's next bytes; `release` is called once they are all given back (their buffer free for another read). */
  hold(chunk: Buffer, release?: () => void): void {
    if (!chunk.length) return release?.();
    this.chunks.push(chunk);
    this.releases.push(release);
  }

  /** Compares `out`, the next bytes decompressed, with the source's next bytes, and lets those go. */
  giveBack(out: Buffer): void {
    let at = 0;
    while (!this.mismatch && at < out.length) {
      const next = this.chunks[0];
      if (!next) {
        this.mismatch = `the archive decompresses to more than the source's ${this.matched} bytes`;
        return;
      }
      const n = Math.min(next.length, out.length - at);
      if (out.compare(next, 0, n, at, at + n) !== 0) {
        this.mismatch = `the archive decompresses to other bytes than the source's, within bytes ${this.matched}-${this.matched + n}`;
        return;
      }
      at += n;
      this.matched += n;
      if (n < next.length) this.chunks[0] = next.subarray(n);
      else {
        this.chunks.shift();
        this.releases.shift()?.();
      }
    }
  }

  /** At the end of the decompression: what is wrong, undefined when everything matched and nothing is left. */
  problem(): string | undefined {
    if (this.mismatch) return this.mismatch;
    const left = this.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    return left
      ? `the archive decompresses to ${this.matched} bytes, the source has ${this.matched + left}`
      : undefined;
  }
}

/** A decompressor fed the frame's pieces in order, its output given back to the held source. */
export class RoundTrip {
  readonly source = new HeldSource();
  private failure: Error | undefined;

  constructor(private readonly decompressor: Transform) {
    decompressor.on('data', (out: Buffer) => this.source.giveBack(out));
    decompressor.on('error', (error: Error) => (this.failure ??= error));
  }

  /** Decompresses a piece of the frame (resolved once the decompressor has taken it whole, or has failed). */
  feed(piece: Buffer): Promise<void> {
    if (this.failure) return Promise.resolve();
    return new Promise((resolve) => {
      // zlib destroys the stream on a corrupt input without calling the write's callback.
      const done = (): void => {
        this.decompressor.off('close', done);
        resolve();
      };
      this.decompressor.once('close', done);
      this.decompressor.write(piece, done);
    });
  }

  /** Ends the decompression (zstd checks the frame's content checksum there); what is wrong, undefined when the round trip gave back exactly the source. */
  async end(): Promise<string | undefined> {
    if (!this.failure) {
      this.decompressor.end();
      await finished(this.decompressor).catch((error: Error) => (this.failure ??= error));
    }
    if (this.failure) return `the archive does not decompress: ${this.failure.message}`;
    return this.source.problem();
  }

  destroy(): void {
    this.decompressor.destroy();
  }
}
