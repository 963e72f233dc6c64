// The structure of a zstd file (RFC 8878), walked from its bytes as they
// stream by, without decompressing: its frames, each one's window and
// content-checksum flag, and where the last complete one ends. Pure: no I/O.

const FRAME_MAGIC = 0xfd2fb528;

export interface FrameInfo {
  window: number;
  checksum: boolean;
}

/** Fed a file's bytes in order (push), it finds its frames; anything that is not a zstd frame stops the walk (`error`). */
export class ZstdFrames {
  readonly frames: FrameInfo[] = [];
  error: string | undefined;
  /** Where the last complete frame ends. */
  end = 0;
  /** The file offset of the next structure to read (a frame header, a block header, a checksum). */
  private pos = 0;
  private seen = 0;
  /** The bytes from `pos` on, when a header straddles two chunks. */
  private carry: Buffer = Buffer.alloc(0);
  private state: 'frame' | 'block' | 'checksum' = 'frame';

  push(chunk: Buffer): void {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const base = this.seen - this.carry.length;
    this.seen += chunk.length;
    this.carry = Buffer.alloc(0);
    while (!this.error) {
      const rel = this.pos - base;
      if (rel >= data.length) return;
      const taken =
        this.state === 'frame'
          ? this.frameHeader(data, rel)
          : this.state === 'block'
            ? this.blockHeader(data, rel)
            : this.skipChecksum();
      if (taken === 0) {
        this.carry = Buffer.from(data.subarray(rel));
        return;
      }
      this.pos += taken;
    }
  }

  /** A frame header at data[rel]: the bytes it takes, 0 while incomplete. */
  private frameHeader(data: Buffer, rel: number): number {
    if (data.length - rel < 6) return 0;
    if (data.readUInt32LE(rel) !== FRAME_MAGIC) {
      this.error = `no zstd frame at byte ${this.pos}`;
      return 0;
    }
    const descriptor = data[rel + 4]!;
    const singleSegment = (descriptor >> 5) & 1;
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
    const contentSizeBytes = [singleSegment, 2, 4, 8][descriptor >> 6]!;
    const length = 6 - singleSegment + dictionaryBytes + contentSizeBytes;
    if (data.length - rel < length) return 0;
    let window: number;
    if (singleSegment) {
      // The window is the content's size.
      const at = rel + 5 + dictionaryBytes;
      window =
        contentSizeBytes === 1
          ? data[at]!
          : contentSizeBytes === 2
            ? data.readUInt16LE(at) + 256
            : contentSizeBytes === 4
              ? data.readUInt32LE(at)
              : Number(data.readBigUInt64LE(at));
    } else {
      const base = 2 ** (10 + (data[rel + 5]! >> 3));
      window = base + (base / 8) * (data[rel + 5]! & 7);
    }
    this.frames.push({ window, checksum: ((descriptor >> 2) & 1) === 1 });
    this.state = 'block';
    return length;
  }

  /** A block header at data[rel]: the header and the block's content it skips, 0 while incomplete. */
  private blockHeader(data: Buffer, rel: number): number {
    if (data.length - rel < 3) return 0;
    const header = data.readUIntLE(rel, 3);
    const type = (header >> 1) & 3;
    if (type === 3) {
      this.error = `a reserved block type at byte ${this.pos}`;
      return 0;
    }
    // An RLE block holds one byte, whatever the size it stands for.
    const taken = 3 + (type === 1 ? 1 : header >>> 3);
    if (header & 1) {
      if (this.frames[this.frames.length - 1]!.checksum) this.state = 'checksum';
      else this.endFrame(this.pos + taken);
    }
    return taken;
  }

  /** The content checksum after the last block: 4 bytes, skipped (the decompressor checks it). */
  private skipChecksum(): number {
    this.endFrame(this.pos + 4);
    return 4;
  }

  private endFrame(end: number): void {
    this.state = 'frame';
    this.end = end;
  }
}

/** What is wrong with a zstd file of `size` bytes, walked, as one of logjam's archives; undefined when nothing. */
export function checkFrames(walk: ZstdFrames, size: number, maxWindow: number): string | undefined {
  if (walk.error) return walk.error;
  if (walk.frames.length !== 1) return `the archive holds ${walk.frames.length} zstd frames, not one`;
  const frame = walk.frames[0]!;
  if (frame.window > maxWindow) return `its window is ${frame.window} bytes, more than ${maxWindow}`;
  if (!frame.checksum) return 'its frame has no content checksum';
  if (walk.end !== size) return `its frame ends at byte ${walk.end} of ${size}`;
  return undefined;
}
