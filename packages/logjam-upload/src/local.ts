// Reading a pending archive: open it (never through a link), take its size and,
// for a file streamed from disk, its MD5s; a small file's bytes are read whole,
// within the pass's memory budget, only when its upload starts.
//
// The open, fstat, read and close of a small file are synchronous calls on the
// main thread, as the marker's creation is (ledger.ts): on a page-cached
// archive each takes microseconds, while through libuv's pool each is a round
// trip between threads (two wake-ups).
import { closeSync, constants, fstatSync, openSync, read, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { errorCode, namePath, type LogName } from '@logjam/core';
import type { Digester, ReadableFile } from './digest.js';
import { partSizeFor, type MultipartSettings } from './multipart.js';

/** Files up to this size are read whole into memory (one read serves the MD5 and the PUT); larger ones are streamed. */
export const WHOLE_FILE_MAX = 1024 * 1024;

/**
 * Bytes of small files' bodies in memory at once, whatever --jobs is. Files
 * past the budget wait for earlier ones to finish (at least one always proceeds).
 */
export const MEMORY_BUDGET = 32 * 1024 * 1024;

export class ByteBudget {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async acquire(bytes: number): Promise<() => void> {
    while (this.used > 0 && this.used + bytes > this.limit)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.used += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= bytes;
      for (const wake of this.waiting.splice(0)) wake();
    };
  }
}

export interface Local {
  log: LogName;
  /** Its path: bytes when the name is not UTF-8. */
  file: string | Buffer;
  size: number;
  /** Hex; empty for a small file until loadBody has read it. */
  md5: string;
  /** For a file that goes multipart: its part size, and each part's MD5 (hex), taken in the same read as `md5`. */
  parts?: { size: number; md5s: string[] };
  /** The whole file, when it is small (WHOLE_FILE_MAX); larger files are streamed from disk. */
  body?: Buffer;
  /** A small file's descriptor, open until loadBody reads it whole (and sets body and md5), or closeLocal. */
  fd?: number;
  /** Gives the body's bytes back to the pass's memory budget. */
  release?: () => void;
  /** The token of a claim (claim.ts) of ours that HEAD found at the key, left by an earlier run. */
  claim?: string;
}

/**
 * Opens a pending file: its size, and for a file streamed from disk its MD5
 * and, if it goes multipart, its parts' MD5s (read through once, here,
 * possibly ahead of its upload). A small file is left open, to be read whole
 * when its upload starts (loadBody), so that its bytes are in memory only
 * while they are being sent. Null when it vanished (removed by someone else meanwhile).
 */
export async function openLocal(
  settings: MultipartSettings,
  digester: Digester,
  log: LogName,
  archiveDir: string,
): Promise<Local | null> {
  const file = namePath(archiveDir, log.name);
  // For messages: the logger shows bytes that are not UTF-8 as %XX.
  const shown = path.join(archiveDir, log.name);
  let fd;
  try {
    // O_NOFOLLOW: a symbolic link named like an archive is never followed (logjam-compress makes none).
    // O_NONBLOCK: a FIFO named like one does not block the open; it is refused below.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP')
      throw new Error(
        `${shown} is a symbolic link; logjam-upload uploads only regular files and does not follow links`,
      );
    throw new Error(`cannot read ${shown}: ${code ?? String(error)}`);
  }
  let keepOpen = false;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${shown} is not a regular file`);
    // As root, another name of the file may be one the folder's owner could not read (ln /etc/shadow).
    if (stat.nlink > 1 && process.geteuid?.() === 0) {
      throw new Error(
        `${shown} has ${stat.nlink} hard links: as root, logjam-upload does not read a file that has another name, which may be a file the folder's owner could not read; run with --user OWNER, or give it one name (cp it, then remove the original)`,
      );
    }
    if (stat.size <= WHOLE_FILE_MAX) {
      keepOpen = true;
      return { log, file, size: stat.size, md5: '', fd };
    }
    const partSize = partSizeFor(stat.size, settings);
    const { size, md5, partMd5s } = await digester.digest(fdFile(fd), partSize);
    if (partSize !== null && size !== stat.size)
      throw new Error(`${shown} changed while it was read (${stat.size} bytes, then ${size})`);
    return {
      log,
      file,
      size,
      md5,
      ...(partSize !== null && partMd5s ? { parts: { size: partSize, md5s: partMd5s } } : {}),
    };
  } finally {
    if (!keepOpen) closeSync(fd);
  }
}

const readFd = promisify(read);

/** A descriptor as a file to read off the main thread (libuv's pool), as a FileHandle reads: for files streamed from disk. */
function fdFile(fd: number): ReadableFile {
  return {
    fd,
    read: async (buffer, offset, length, position) => ({
      bytesRead: (await readFd(fd, buffer, offset, length, position)).bytesRead,
    }),
  };
}

/** Reads a small file opened by openLocal whole, within the pass's memory budget: its body and MD5. */
export async function loadBody(memory: ByteBudget, local: Local): Promise<void> {
  const fd = local.fd;
  if (fd === undefined) return;
  // One read of the size fstat gave. Archives do not change once written.
  local.release = await memory.acquire(local.size);
  const body = Buffer.allocUnsafe(local.size);
  let filled = 0;
  try {
    while (filled < body.length) {
      const bytesRead = readSync(fd, body, filled, body.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
  } finally {
    // Closed now rather than after the upload: fewer descriptors open at once.
    closeLocal(local);
  }
  const data = filled === body.length ? body : body.subarray(0, filled);
  local.body = data;
  local.size = data.length;
  local.md5 = createHash('md5').update(data).digest('hex');
}

/** Closes a small file's descriptor if it is still open (its upload never started, or failed before the read). */
export function closeLocal(local: Local | null | undefined): void {
  if (local?.fd === undefined) return;
  const fd = local.fd;
  local.fd = undefined;
  closeSync(fd);
}
