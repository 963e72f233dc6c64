// The parallel gzip engine, pigz's way: a file is read in blocks, compressed
// several at once through the pass's BlockPool as raw deflate (each primed
// with the 32 KiB of the source before it), written in order, between one
// gzip header and one trailer: the archive is a single gzip member, which
// every reader reads whole. Verification decompresses it from end to end.
import { constants, promises as fs, type Stats } from 'node:fs';
import os from 'node:os';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { BlockPool, inOrder } from './block-pool.js';
import { collectAbove } from './collect.js';
import { crc32, crc32Combine } from './crc32.js';
import {
  GZIP_HEADER_SIZE,
  GZIP_TRAILER_SIZE,
  gzipHeader,
  gzipTrailer,
  inflateMember,
  type Checksum,
} from './gzip-member.js';

export type { Checksum } from './gzip-member.js';

/** Big reads keep the per-chunk overhead low; memory stays a few MiB per file whatever its size. */
export const CHUNK = 1024 * 1024;
/**
 * A file is read and compressed in blocks of this size, several at once on
 * libuv's threadpool, written in order into one deflate stream.
 */
export const BLOCK_SIZE = 4 * 1024 * 1024;
/** Deflate's window: each block is primed with this much of the source before it, so the blocks lose nothing by being apart. */
export const DICTIONARY_SIZE = 32 * 1024;

/** What the engine needs of a file's compression. */
export interface BlockOptions {
  level: number;
  signal?: AbortSignal | undefined;
  /** Shared by the files of a pass (default: one pool per process, sized to the CPUs). */
  pool?: BlockPool | undefined;
  /** Test seam: the block size (default BLOCK_SIZE). */
  blockSize?: number | undefined;
}

/**
 * Writes all of `chunk` at `position`. Positional (pwrite): the same bytes as a
 * sequential write, and a syscall the event loop's own wake-ups (writes to an
 * eventfd) never use, so the crash-point tests can count and kill at each one.
 */
export async function writeAll(handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  for (let offset = 0; offset < chunk.length;) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position + offset);
    offset += bytesWritten;
  }
}

/** What gzipTo wrote: the source's length and CRC-32 (computed on the bytes read), and the archive's size. */
export interface Written extends Checksum {
  size: number;
}

const deflateRawAsync = promisify(zlib.deflateRaw);

/** Reads up to `size` bytes at `position` (fewer only at the end of the file), into `buffer` if given. */
async function readBlock(
  handle: FileHandle,
  position: number,
  size: number,
  buffer: Buffer = Buffer.allocUnsafeSlow(size),
): Promise<Buffer> {
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(buffer, filled, size - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === buffer.length ? buffer : buffer.subarray(0, filled);
}

/**
 * A block's writer runs a full collection (collect.ts) when the Buffers pass
 * 40 MiB, about twice what a pass holds live (its blocks, their output, a
 * verification's reads), and 24 MiB more than what is live.
 */
const collectGarbage = collectAbove(40 * 1024 * 1024, 24 * 1024 * 1024);

let defaultPool: BlockPool | undefined;
const poolOf = (options: BlockOptions): BlockPool =>
  options.pool ?? (defaultPool ??= new BlockPool(os.availableParallelism()));

/**
 * One block as raw deflate, primed with `dictionary` (the source's bytes just
 * before it). A block that is not the last ends with a sync flush (an empty
 * stored block: byte-aligned, no end-of-stream mark), so the next block's
 * deflate data follows it in the same stream; the last one finishes it.
 */
function deflateBlock(block: Buffer, dictionary: Buffer | undefined, last: boolean, level: number): Promise<Buffer> {
  const finishFlush = last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH;
  return deflateRawAsync(block, { level, chunkSize: CHUNK, finishFlush, ...(dictionary ? { dictionary } : {}) });
}

/** The last DICTIONARY_SIZE bytes of `before` followed by `block`, copied (the block's buffer is reused). */
function dictionaryAfter(before: Buffer | undefined, block: Buffer): Buffer {
  if (block.length >= DICTIONARY_SIZE) return Buffer.from(block.subarray(block.length - DICTIONARY_SIZE));
  const joined = before ? Buffer.concat([before, block]) : Buffer.from(block);
  return joined.length > DICTIONARY_SIZE ? joined.subarray(joined.length - DICTIONARY_SIZE) : joined;
}

/**
 * Creates `tmp` with the source's permissions, has `write` fill it, gives it
 * the source's times, and fsyncs it: one fsync makes the data and the times
 * durable together (a second, for the times alone, was a journal commit per
 * archive for nothing).
 */
export async function writeTemp(tmp: string, before: Stats, write: (out: FileHandle) => Promise<void>): Promise<void> {
  // O_EXCL: never reuse an existing file (nor follow a link). Mode: the source's permissions (logs may be private).
  const out = await fs.open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await out.chmod(before.mode & 0o666);
    await write(out);
    // The archive keeps the source's times (set after the last write, which would change them); link() below preserves them.
    await out.utimes(before.atimeMs / 1000, before.mtimeMs / 1000);
    await out.sync();
  } finally {
    await out.close();
  }
}

export async function gzipTo(src: FileHandle, tmp: string, before: Stats, options: BlockOptions): Promise<Written> {
  const pool = poolOf(options);
  const blockSize = options.blockSize ?? BLOCK_SIZE;
  const sum: Written = { length: 0, crc: 0, size: 0 };
  await writeTemp(tmp, before, async (out) => {
    await writeAll(out, gzipHeader(options.level), 0);
    let offset = GZIP_HEADER_SIZE;
    let dictionary: Buffer | undefined;
    let ended = false;
    await inOrder<{ data: Buffer; length: number; crc: number }>(
      pool,
      options.signal,
      async (index) => {
        if (ended) return undefined;
        const buffer = pool.take(blockSize);
        const block = await readBlock(src, index * blockSize, blockSize, buffer);
        // The first short read (an empty one for an empty file) is the end of the file: its block finishes the stream.
        const last = block.length < blockSize;
        ended = last;
        const primer = dictionary;
        dictionary = last ? undefined : dictionaryAfter(dictionary, block);
        // The source's CRC is computed here, on what was read, independently of zlib's.
        const crc = crc32(block);
        return {
          task: pool.cpu.run(async () => {
            const data = await deflateBlock(block, primer, last, options.level);
            pool.give(buffer); // Only once zlib is done with it.
            return { data, length: block.length, crc };
          }),
        };
      },
      async (block) => {
        await writeAll(out, block.data, offset);
        offset += block.data.length;
        sum.length += block.length;
        sum.crc = crc32Combine(sum.crc, block.crc, block.length);
        collectGarbage();
      },
    );
    await writeAll(out, gzipTrailer(sum), offset);
    sum.size = offset + GZIP_TRAILER_SIZE;
  });
  return sum;
}

/**
 * Decompresses the archive gzipTo wrote, from end to end as any reader does,
 * and checks it against the source's length and CRC-32; throws when they
 * differ, or when the file is anything but that one gzip member.
 */
export async function verifyGzip(
  file: string,
  source: Written,
  options: BlockOptions,
): Promise<'verified' | 'aborted'> {
  // One member inflates on one thread: it takes one of the pool's cores.
  const check = await poolOf(options).cpu.run(() => inflateMember(file, gzipHeader(options.level), options.signal));
  if (options.signal?.aborted) return 'aborted';
  if (check.length !== source.length || check.crc !== source.crc) {
    throw new Error(
      `verification failed: the archive decompresses to ${check.length} bytes (crc ${hex(check.crc)}), the source has ${source.length} (crc ${hex(source.crc)})`,
    );
  }
  return 'verified';
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
