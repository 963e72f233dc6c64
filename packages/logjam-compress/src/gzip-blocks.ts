// The parallel gzip engine: a file is read and compressed in blocks, each an
// independent gzip member, several at once through the pass's BlockPool,
// written in order; verification decompresses the members side by side the
// same way, and adds their CRC-32s up to the whole file's.
import { constants, promises as fs, type Stats } from 'node:fs';
import os from 'node:os';
import type { FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { BlockPool, inOrder } from './block-pool.js';
import { crc32, crc32Combine } from './crc32.js';

/** Big reads keep the per-chunk overhead low; memory stays a few MiB per file whatever its size. */
export const CHUNK = 1024 * 1024;
/**
 * A file is read and compressed in blocks of this size, each an independent
 * gzip member (RFC 1952 section 2.2: a gzip file is a series of members),
 * several at once on libuv's threadpool, written in order. At 4 MiB, not
 * sharing a dictionary across blocks costs about 0.2% of the output (bench).
 */
export const BLOCK_SIZE = 4 * 1024 * 1024;

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
async function writeAll(handle: FileHandle, chunk: Buffer, position: number): Promise<void> {
  for (let offset = 0; offset < chunk.length;) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset, position + offset);
    offset += bytesWritten;
  }
}

export interface Checksum {
  length: number;
  crc: number;
}

/** One gzip member of the archive: where it lies in the file, and the length and CRC-32 of the source block it holds. */
export interface Member {
  offset: number;
  size: number;
  length: number;
  crc: number;
}

export interface Written extends Checksum {
  members: Member[];
}

const gzipAsync = promisify(zlib.gzip);

/** Reads up to `size` bytes at `position` (fewer only at the end of the file), into `buffer` if given. */
async function readBlock(handle: FileHandle, position: number, size: number, buffer: Buffer = Buffer.allocUnsafeSlow(size)): Promise<Buffer> {
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(buffer, filled, size - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === buffer.length ? buffer : buffer.subarray(0, filled);
}

let defaultPool: BlockPool | undefined;

export async function gzipTo(src: FileHandle, tmp: string, before: Stats, options: BlockOptions): Promise<Written> {
  const pool = options.pool ?? (defaultPool ??= new BlockPool(os.availableParallelism()));
  const blockSize = options.blockSize ?? BLOCK_SIZE;
  const sum: Written = { length: 0, crc: 0, members: [] };
  const zopts = { level: options.level, chunkSize: CHUNK };
  // O_EXCL: never reuse an existing file (nor follow a link). Mode: the source's permissions (logs may be private).
  const out = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await out.chmod(before.mode & 0o666);
    let offset = 0;
    await inOrder<{ data: Buffer; length: number; crc: number }>(
      pool,
      options.signal,
      async (index) => {
        const buffer = pool.take(blockSize);
        const block = await readBlock(src, index * blockSize, blockSize, buffer);
        // An empty file is one empty member; otherwise the end of the file ends it.
        if (block.length === 0 && index > 0) {
          pool.give(buffer);
          return undefined;
        }
        // The source's CRC is computed here, on what was read, independently of zlib's.
        const crc = crc32(block);
        return {
          task: pool.cpu.run(async () => {
            const data = await gzipAsync(block, zopts);
            pool.give(buffer); // Only once zlib is done with it.
            return { data, length: block.length, crc };
          }),
        };
      },
      async (member) => {
        await writeAll(out, member.data, offset);
        sum.members.push({ offset, size: member.data.length, length: member.length, crc: member.crc });
        offset += member.data.length;
        sum.length += member.length;
        sum.crc = crc32Combine(sum.crc, member.crc, member.length);
      },
    );
    await out.sync();
    // The archive keeps the source's times; link() below preserves them.
    await out.utimes(before.atimeMs / 1000, before.mtimeMs / 1000);
    await out.sync();
  } finally {
    await out.close();
  }
  return sum;
}

/**
 * Length and CRC-32 of what the gzip file written by gzipTo decompresses to:
 * its members decompressed side by side, each read back from the file where
 * it was written, the whole content's length and CRC-32 accumulated in order.
 * Anything in the file outside the members (or a member cut short) fails.
 */
async function checksumGzip(file: string, members: Member[], options: BlockOptions): Promise<Checksum> {
  const pool = options.pool ?? (defaultPool ??= new BlockPool(os.availableParallelism()));
  const sum: Checksum = { length: 0, crc: 0 };
  const handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const end = members.length === 0 ? 0 : members[members.length - 1]!.offset + members[members.length - 1]!.size;
    const size = (await handle.stat()).size;
    if (size !== end) throw new Error(`verification failed: the archive has ${size} bytes, its members ${end}`);
    const blockSize = options.blockSize ?? BLOCK_SIZE;
    await inOrder<Checksum>(
      pool,
      options.signal,
      async (index) => {
        const member = members[index];
        if (!member) return undefined;
        // Read into a block buffer when it fits (an incompressible block's member is a little larger).
        const buffer = member.size <= blockSize ? pool.take(blockSize) : undefined;
        const data = await readBlock(handle, member.offset, member.size, buffer);
        // Streamed: the decompressed block is checksummed chunk by chunk, never held whole.
        return { task: pool.cpu.run(() => checksumMember(data)).finally(() => buffer && pool.give(buffer)) };
      },
      async (check, index) => {
        const member = members[index]!;
        if (check.length !== member.length || check.crc !== member.crc) {
          throw new Error(
            `verification failed: gzip member ${index + 1} of ${members.length} decompresses to ${check.length} bytes (crc ${hex(check.crc)}), its source block has ${member.length} (crc ${hex(member.crc)})`,
          );
        }
        sum.length += check.length;
        sum.crc = crc32Combine(sum.crc, check.crc, check.length);
      },
    );
  } finally {
    await handle.close();
  }
  return sum;
}

/** Decompresses the archive gzipTo wrote and checks it against the source's length and CRC-32; throws when they differ. */
export async function verifyGzip(file: string, source: Written, options: BlockOptions): Promise<'verified' | 'aborted'> {
  const check = await checksumGzip(file, source.members, options);
  if (options.signal?.aborted) return 'aborted';
  if (check.length !== source.length || check.crc !== source.crc) {
    throw new Error(`verification failed: the archive decompresses to ${check.length} bytes (crc ${hex(check.crc)}), the source has ${source.length} (crc ${hex(source.crc)})`);
  }
  return 'verified';
}

/** Length and CRC-32 of what one gzip member (or several) decompresses to. */
function checksumMember(data: Buffer): Promise<Checksum> {
  return new Promise((resolve, reject) => {
    const sum: Checksum = { length: 0, crc: 0 };
    const gunzip = zlib.createGunzip({ chunkSize: CHUNK });
    gunzip.on('data', (chunk: Buffer) => {
      sum.length += chunk.length;
      sum.crc = crc32(chunk, sum.crc);
    });
    gunzip.on('end', () => resolve(sum));
    gunzip.on('error', reject);
    gunzip.end(data);
  });
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
