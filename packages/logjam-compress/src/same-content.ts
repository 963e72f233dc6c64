// Whether an existing archive holds exactly a file's content: the archive
// decompressed and compared with the file, both streamed (memory stays flat).
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { pipeline as pipe, Readable } from 'node:stream';
import { nameFromBytes, oneLine, type Logger } from '@logjam/core';
import { engineOf, type ArchiveFormat } from './archive-format.js';
import { CHUNK } from './gzip-blocks.js';

/**
 * Reads a whole open file from its start, by positional reads on the handle.
 * Not a read stream on its fd: destroying one closes the fd, and we keep the
 * handle open for fstat and further reads; FileHandle.close() also waits for
 * a read in flight, so no read ever lands on a closed (or reused) fd.
 */
async function* readChunks(handle: FileHandle): AsyncGenerator<Buffer> {
  let position = 0;
  for (;;) {
    const buffer = Buffer.allocUnsafe(CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, CHUNK, position);
    if (bytesRead === 0) return;
    position += bytesRead;
    yield bytesRead < CHUNK ? buffer.subarray(0, bytesRead) : buffer;
  }
}

function readFrom(handle: FileHandle): Readable {
  return Readable.from(readChunks(handle), { objectMode: false, highWaterMark: CHUNK });
}

/** Whether an archive (gzip, or the format given) decompresses to exactly the bytes of `src` (streamed: memory stays flat). An unreadable archive is not the same. */
export async function sameContent(
  gzFile: string | Buffer,
  src: FileHandle,
  options: { signal?: AbortSignal | undefined; log: Logger; format?: ArchiveFormat | undefined },
): Promise<boolean> {
  let archive: FileHandle;
  try {
    archive = await fs.open(gzFile, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false;
  }
  // pipe() destroys both streams on an error, so the iterator below sees it.
  const decompressed = pipe(readFrom(archive), engineOf(options.format).decompressor(), () => {});
  const original = readChunks(src);
  try {
    return await equalStreams(decompressed[Symbol.asyncIterator](), original, options.signal);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    options.log.debug('could not read an existing archive; treating it as different', {
      archive: typeof gzFile === 'string' ? gzFile : nameFromBytes(gzFile),
      error: oneLine(error),
    });
    return false;
  } finally {
    decompressed.destroy();
    await original.return(undefined).catch(() => {});
    await archive.close().catch(() => {});
  }
}

async function equalStreams(
  ia: AsyncIterator<unknown>,
  ib: AsyncIterator<unknown>,
  signal?: AbortSignal,
): Promise<boolean> {
  let bufA: Buffer = Buffer.alloc(0);
  let bufB: Buffer = Buffer.alloc(0);
  let doneA = false;
  let doneB = false;
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    if (bufA.length === 0 && !doneA) {
      const next = await ia.next();
      if (next.done) doneA = true;
      else bufA = next.value as Buffer;
    }
    if (bufB.length === 0 && !doneB) {
      const next = await ib.next();
      if (next.done) doneB = true;
      else bufB = next.value as Buffer;
    }
    if (bufA.length === 0 && bufB.length === 0) {
      if (doneA && doneB) return true;
      continue;
    }
    if (bufA.length === 0 || bufB.length === 0) {
      if ((bufA.length === 0 && doneA) || (bufB.length === 0 && doneB)) return false;
      continue;
    }
    const n = Math.min(bufA.length, bufB.length);
    if (bufA.compare(bufB, 0, n, 0, n) !== 0) return false;
    bufA = bufA.subarray(n);
    bufB = bufB.subarray(n);
  }
}
