// One gzip member (RFC 1952) around the engine's deflate stream: its header
// and trailer, and its decompression from end to end, strictly: the header
// as written, one deflate stream ending exactly where the trailer begins,
// the trailer's CRC-32 and length those of what it decompresses to.
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { collectEvery } from './collect.js';
import { crc32 } from './crc32.js';

/** A member's uncompressed length and CRC-32, as its trailer carries them. */
export interface Checksum {
  length: number;
  crc: number;
}

export const GZIP_HEADER_SIZE = 10;
export const GZIP_TRAILER_SIZE = 8;
const READ_SIZE = 1024 * 1024;

/**
 * The header zlib's gzip writes: no name, no mtime (0), no optional field;
 * XFL 2 at level 9 and 4 at levels 0-1 as zlib sets it; OS 3 (Unix).
 */
export function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level < 2 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

/** The trailer: the CRC-32 of the content and its length mod 2^32, little-endian. */
export function gzipTrailer(sum: Checksum): Buffer {
  const trailer = Buffer.alloc(GZIP_TRAILER_SIZE);
  trailer.writeUInt32LE(sum.crc >>> 0, 0);
  trailer.writeUInt32LE(sum.length % 2 ** 32, 4);
  return trailer;
}

/** The bytes of an open file from `start` to `end` (or its end), by positional reads, in chunks of up to `size` (1 MiB). */
export async function* readRange(
  handle: FileHandle,
  start: number,
  end: number,
  size = READ_SIZE,
): AsyncGenerator<Buffer> {
  for (let position = start; position < end;) {
    const buffer = Buffer.allocUnsafe(Math.min(size, end - position));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

/** The length and CRC-32 of what `file`, a single gzip member with `header`, decompresses to; throws if it is anything else. */
export async function inflateMember(file: string, header: Buffer, signal?: AbortSignal): Promise<Checksum> {
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const size = (await handle.stat()).size;
    const body = size - GZIP_HEADER_SIZE - GZIP_TRAILER_SIZE;
    const ends = Buffer.alloc(GZIP_HEADER_SIZE + GZIP_TRAILER_SIZE);
    if (body >= 0) {
      await handle.read(ends, 0, GZIP_HEADER_SIZE, 0);
      await handle.read(ends, GZIP_HEADER_SIZE, GZIP_TRAILER_SIZE, size - GZIP_TRAILER_SIZE);
    }
    if (body < 0 || !ends.subarray(0, GZIP_HEADER_SIZE).equals(header))
      throw new Error(`verification failed: the archive does not begin with the gzip header written (${size} bytes)`);
    const sum: Checksum = { length: 0, crc: 0 };
    const inflate = zlib.createInflateRaw({ chunkSize: READ_SIZE });
    // Each chunk of output dies as soon as it is summed: a young-generation collection frees it.
    const collect = collectEvery(16 * 1024 * 1024);
    await pipeline(
      Readable.from(readRange(handle, GZIP_HEADER_SIZE, size - GZIP_TRAILER_SIZE), { highWaterMark: 1 }),
      inflate,
      async (chunks: AsyncIterable<Buffer>) => {
        for await (const chunk of chunks) {
          sum.length += chunk.length;
          sum.crc = crc32(chunk, sum.crc);
          collect(chunk.length);
        }
      },
      { signal },
    );
    // Raw inflate stops at the deflate stream's end mark: anything between it and the trailer (a second member) is refused.
    if (inflate.bytesWritten !== body)
      throw new Error(
        `verification failed: the deflate stream ends ${body - inflate.bytesWritten} bytes before the gzip trailer (more than one member?)`,
      );
    const trailer = gzipTrailer(sum);
    if (!ends.subarray(GZIP_HEADER_SIZE).equals(trailer))
      throw new Error(
        `verification failed: the gzip trailer does not match the ${sum.length} bytes it decompresses to`,
      );
    return sum;
  } finally {
    await handle.close();
  }
}
