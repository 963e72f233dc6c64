// zstd archives (--format zstd): one frame per archive, compressed in
// parallel inside the frame by zstd's own workers (ZSTD_c_nbWorkers), with
// the content checksum on and a window of at most 8 MiB. Verified as it is
// written (zstd-round-trip.ts: each piece decompressed and compared with the
// source's bytes still in memory, its structure walked), then read back once
// synced: the file must be exactly the bytes written. Node's zlib has zstd
// from 22.15 and 23.8 (types too new for the @types/node this project builds
// with: declared here).
import { constants, promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Transform } from 'node:stream';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { crc32 } from './crc32.js';
import { BlockPool } from './block-pool.js';
import { writeAll, writeTemp, type BlockOptions } from './gzip-blocks.js';
import { readRange } from './gzip-member.js';
import { RoundTrip } from './zstd-round-trip.js';
import { checkFrames, ZstdFrames } from './zstd-structure.js';

export const ZSTD_LEVELS = { min: 1, max: 19, default: 3 } as const;
/** The largest window readers accept by default (Trino, Spark, the zstd CLI): 8 MiB; levels 1-19 stay within it. */
export const MAX_WINDOW = 8 * 1024 * 1024;
const CHUNK = 1024 * 1024;
/**
 * The input a worker compresses at once (ZSTD_c_jobSize; zstd's default at
 * level 3 is 8 MiB, which would give a 4 MiB write one job, one core).
 */
const JOB_SIZE = 4 * 1024 * 1024;

interface ZstdZlib {
  zstdCompress?: unknown;
  createZstdCompress(options: { params: Record<number, number>; chunkSize?: number; flush?: number }): Transform;
  createZstdDecompress(options?: { chunkSize?: number }): Transform;
}
const zstdZlib = zlib as unknown as ZstdZlib;
const param = (name: string): number => (zlib.constants as unknown as Record<string, number>)[name]!;

/** Whether this Node's zlib has zstd. */
export function hasZstd(): boolean {
  return typeof zstdZlib.zstdCompress === 'function';
}

/** The line said when it has not: the Node running, and the two ways to get one that has. */
export function noZstdMessage(nodeVersion: string): string {
  return `--format zstd needs zstd in Node's zlib (Node 22.15 or later); this is Node ${nodeVersion}: run logjam-compress with Node 22.15 or later, or install the self-contained executable or the .deb, which carry Node 24`;
}

/** zstd workers per file: the cores shared among the files compressed at once, a whole frame's work in one file when it is alone. */
export function zstdWorkers(jobs: number, files: number): number {
  return Math.max(1, Math.ceil(jobs / Math.max(1, Math.min(jobs, files))));
}

export interface ZstdOptions extends BlockOptions {
  /** ZSTD_c_nbWorkers (default 1). */
  workers?: number | undefined;
  /** Whether to verify the archive (default: yes): its round trip while it is written, then verifyZstd. */
  verify?: boolean | undefined;
}

/**
 * Every write is flushed (ZSTD_e_flush), and is a job for each worker: with
 * workers, zstd may take part of a write and return (ZSTD_e_continue asks
 * only for some progress), which Node's zlib reads as the end of the input
 * ("stream.push() after EOF", or a short frame). A flush takes the whole
 * write; its jobs run side by side.
 */
export function zstdCompressor(level: number, workers: number): Transform {
  return zstdZlib.createZstdCompress({
    chunkSize: CHUNK,
    flush: param('ZSTD_e_flush'),
    params: {
      [param('ZSTD_c_compressionLevel')]: level,
      [param('ZSTD_c_checksumFlag')]: 1,
      [param('ZSTD_c_nbWorkers')]: workers,
      [param('ZSTD_c_jobSize')]: JOB_SIZE,
    },
  });
}

export function zstdDecompressor(): Transform {
  return zstdZlib.createZstdDecompress({ chunkSize: CHUNK });
}

/** What zstdTo wrote: the source's length, and the archive's size, CRC-32 and frames, walked as they were written. */
export interface ZstdWritten {
  length: number;
  size: number;
  crc: number;
  frames: ZstdFrames;
}

/**
 * Compresses the source into `tmp` as one zstd frame, fsynced, with the
 * source's times and permissions. With `verify`, each piece of the frame is
 * decompressed as it is written and must give back the source's bytes
 * exactly (RoundTrip); the file is checked against what was written by
 * verifyZstd.
 */
export async function zstdTo(src: FileHandle, tmp: string, before: Stats, options: ZstdOptions): Promise<ZstdWritten> {
  const written: ZstdWritten = { length: 0, size: 0, crc: 0, frames: new ZstdFrames() };
  const workers = options.workers ?? 1;
  const roundTrip = options.verify === false ? undefined : new RoundTrip(zstdDecompressor());
  const size = JOB_SIZE * workers;
  // A read's buffer is reused once the round trip has given its bytes back (the compressor is then done with them too):
  // a fresh 4 MiB buffer per read cost a page fault per 4 KiB (60,000 for 320 MB) and garbage between GCs.
  const buffers = roundTrip ? (options.pool ?? new BlockPool(1)) : undefined;
  try {
    await writeTemp(tmp, before, async (out) => {
      const source = Readable.from(
        (async function* () {
          for (;;) {
            const buffer = buffers ? buffers.take(size) : Buffer.allocUnsafe(size);
            const { bytesRead } = await src.read(buffer, 0, size, written.length);
            if (bytesRead === 0) return buffers?.give(buffer);
            const chunk = buffer.subarray(0, bytesRead);
            written.length += bytesRead;
            roundTrip?.source.hold(chunk, () => buffers?.give(buffer));
            yield chunk;
          }
        })(),
        // One chunk read ahead (Readable.from's default is 16: 64 MiB a file at 4 MiB a chunk).
        { highWaterMark: 1 },
      );
      await pipeline(
        source,
        zstdCompressor(options.level, workers),
        async (pieces: AsyncIterable<Buffer>) => {
          for await (const piece of pieces) {
            await Promise.all([writeAll(out, piece, written.size), roundTrip?.feed(piece)]);
            written.size += piece.length;
            written.crc = crc32(piece, written.crc);
            written.frames.push(piece);
          }
        },
        { signal: options.signal },
      );
      const problem = await roundTrip?.end();
      if (problem) throw new Error(`verification failed: ${problem}`);
    });
  } finally {
    roundTrip?.destroy();
  }
  return written;
}

/**
 * Checks the archive zstdTo wrote, verified as it was written: its frames
 * walked (one, of a window within 8 MiB, with a checksum, ending at the end
 * of the file), and the file read back, exactly the bytes written (length and
 * CRC-32), so that what was decompressed is what is on disk.
 */
export async function verifyZstd(
  file: string,
  written: ZstdWritten,
  options: BlockOptions,
): Promise<'verified' | 'aborted'> {
  const problem = checkFrames(written.frames, written.size, MAX_WINDOW);
  if (problem) throw new Error(`verification failed: ${problem}`);
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let size = 0;
    let crc = 0;
    for await (const chunk of readRange(handle, 0, Infinity, CHUNK)) {
      if (options.signal?.aborted) return 'aborted';
      size += chunk.length;
      crc = crc32(chunk, crc);
    }
    if (size !== written.size || crc !== written.crc) {
      throw new Error(
        `verification failed: the archive on disk is ${size} bytes (crc ${crc >>> 0}), not the ${written.size} bytes written (crc ${written.crc >>> 0})`,
      );
    }
  } finally {
    await handle.close();
  }
  return 'verified';
}
