// The MD5 of a file streamed from disk (which Content-MD5 needs before the
// first byte is sent) and, for a multipart upload, of each of its parts, in
// one read. It runs on a worker thread (digest-worker.ts), so that hashing
// hundreds of MB does not hold up the main thread, which meanwhile loads the
// SDK and sends other files; on the main thread only when no worker can run.
import { createHash, type Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { nodeWorkerThreads } from './builtins.js';

/** What reading a file takes: a FileHandle, or a descriptor opened synchronously (local.ts's fdFile). */
export interface ReadableFile {
  readonly fd: number;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/** Bytes per read while digesting. */
export const DIGEST_READ = 1024 * 1024;

export interface FileDigest {
  size: number;
  /** Hex. */
  md5: string;
  /** Hex, one per part, when the file goes multipart. */
  partMd5s?: string[];
}

/** The MD5 (hex) of every part of a file, fed the file's bytes in order, in chunks of any size. */
export class PartHasher {
  readonly md5s: string[] = [];
  private hash: Hash = createHash('md5');
  private filled = 0;

  constructor(readonly partSize: number) {}

  update(chunk: Uint8Array): void {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.partSize - this.filled);
      this.hash.update(chunk.subarray(offset, offset + take));
      this.filled += take;
      offset += take;
      if (this.filled === this.partSize) this.finishPart();
    }
  }

  /** The parts' MD5s, the last (shorter) part included. */
  digest(): string[] {
    if (this.filled > 0 || this.md5s.length === 0) this.finishPart();
    return this.md5s;
  }

  private finishPart(): void {
    this.md5s.push(this.hash.digest('hex'));
    this.hash = createHash('md5');
    this.filled = 0;
  }
}

/** The whole file's MD5 and, given a part size, its parts'. */
class FileHasher {
  private readonly whole = createHash('md5');
  private readonly parts: PartHasher | null;
  size = 0;

  constructor(partSize: number | null) {
    this.parts = partSize === null ? null : new PartHasher(partSize);
  }

  update(chunk: Uint8Array): void {
    this.whole.update(chunk);
    this.parts?.update(chunk);
    this.size += chunk.length;
  }

  digest(): FileDigest {
    return { size: this.size, md5: this.whole.digest('hex'), ...(this.parts ? { partMd5s: this.parts.digest() } : {}) };
  }
}

/** Reads an open file from its start to its end, blocking: for the digest worker's own thread. */
export function digestFdSync(
  fd: number,
  partSize: number | null,
  buffer: Buffer = Buffer.allocUnsafe(DIGEST_READ),
): FileDigest {
  const hasher = new FileHasher(partSize);
  for (;;) {
    const bytesRead = readSync(fd, buffer, 0, buffer.length, hasher.size);
    if (bytesRead === 0) return hasher.digest();
    hasher.update(buffer.subarray(0, bytesRead));
  }
}

/** The same, on the main thread, without blocking it. */
export async function digestHandle(
  handle: ReadableFile,
  partSize: number | null,
  signal: AbortSignal,
): Promise<FileDigest> {
  const hasher = new FileHasher(partSize);
  const buffer = Buffer.allocUnsafe(DIGEST_READ);
  for (;;) {
    if (signal.aborted) throw new Error('aborted');
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, hasher.size);
    if (bytesRead === 0) return hasher.digest();
    hasher.update(buffer.subarray(0, bytesRead));
  }
}

/** A request to the worker, and its answer. */
export interface DigestRequest {
  id: number;
  fd: number;
  partSize: number | null;
}
export type DigestAnswer =
  { id: number; digest: FileDigest } | { id: number; error: { message: string; code?: string | undefined } };

interface Waiting {
  handle: ReadableFile;
  partSize: number | null;
  resolve: (digest: FileDigest) => void;
  reject: (error: unknown) => void;
}

declare const LOGJAM_DIGEST_WORKER_CODE: string | undefined;

/**
 * The worker's code, a CommonJS script, where the build inlined it (the
 * self-contained executable has no files beside it); else its file beside
 * this module: the bundle's .mjs, or tsc's .js. The unit tests run the .ts
 * sources, whose loader a worker thread does not get: they use tsc's build of
 * the worker (npm test builds first).
 */
function workerSource(): URL | string {
  if (typeof LOGJAM_DIGEST_WORKER_CODE === 'string') return LOGJAM_DIGEST_WORKER_CODE;
  if (import.meta.url.endsWith('.ts')) return new URL('../dist/digest-worker.js', import.meta.url);
  return new URL(import.meta.url.endsWith('.mjs') ? './digest-worker.mjs' : './digest-worker.js', import.meta.url);
}

/**
 * One worker thread that digests open files, one at a time, for one pass;
 * started on the first file that needs it. Files are passed as descriptors
 * (the worker shares the process's), so the checks made when opening them
 * hold. Should the worker fail to start or die, what it had not answered is
 * digested on the main thread instead, and so is everything after.
 */
export class Digester {
  private worker: Worker | undefined;
  private broken = false;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly signal: AbortSignal,
    private readonly onFallback: (reason: string) => void = () => {},
    private readonly source: URL | string = workerSource(),
  ) {}

  digest(handle: ReadableFile, partSize: number | null): Promise<FileDigest> {
    if (this.signal.aborted) return Promise.reject(new Error('aborted'));
    const worker = this.start();
    if (!worker) return digestHandle(handle, partSize, this.signal);
    const id = this.nextId++;
    return new Promise<FileDigest>((resolve, reject) => {
      this.waiting.set(id, { handle, partSize, resolve, reject });
      // Busy, it keeps the process alive; idle, it never holds up its exit (a pass that was not closed).
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ id, fd: handle.fd, partSize } satisfies DigestRequest);
    });
  }

  /** Stops the worker; what it had not answered fails as aborted. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.broken = true;
    this.signal.removeEventListener('abort', this.onAbort);
    await worker?.terminate();
    this.rejectAll(new Error('aborted'));
  }

  private readonly onAbort = () => {
    void this.close();
  };

  private start(): Worker | null {
    if (this.worker) return this.worker;
    if (this.broken) return null;
    try {
      // None of the parent's node options (--input-type, loaders): the worker's code needs none.
      this.worker =
        typeof this.source === 'string'
          ? new (nodeWorkerThreads().Worker)(this.source, { eval: true, execArgv: [] })
          : new (nodeWorkerThreads().Worker)(this.source, { execArgv: [] });
    } catch (error) {
      this.fallBack(error);
      return null;
    }
    this.signal.addEventListener('abort', this.onAbort, { once: true });
    this.worker.on('message', (answer: DigestAnswer) => {
      const waiting = this.waiting.get(answer.id);
      if (!waiting) return;
      this.waiting.delete(answer.id);
      if (this.waiting.size === 0) this.worker?.unref();
      if ('digest' in answer) waiting.resolve(answer.digest);
      else
        waiting.reject(
          Object.assign(new Error(answer.error.message), answer.error.code ? { code: answer.error.code } : {}),
        );
    });
    this.worker.on('error', (error) => this.fallBack(error));
    this.worker.on('exit', (code) => {
      if (this.worker) this.fallBack(new Error(`the digest worker exited (${code})`));
    });
    return this.worker;
  }

  /** The worker is gone: its unanswered files, and all later ones, are digested here. */
  private fallBack(error: unknown): void {
    if (this.broken) return;
    this.broken = true;
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
    this.onFallback(error instanceof Error ? error.message : String(error));
    for (const [id, waiting] of this.waiting) {
      this.waiting.delete(id);
      digestHandle(waiting.handle, waiting.partSize, this.signal).then(waiting.resolve, waiting.reject);
    }
  }

  private rejectAll(error: Error): void {
    for (const [id, waiting] of this.waiting) {
      this.waiting.delete(id);
      waiting.reject(error);
    }
  }
}

/** The ETag S3 gives a multipart object (without quotes): the MD5 of its parts' binary MD5s, a dash, the part count. */
export function multipartEtag(partMd5s: readonly string[]): string {
  const hash = createHash('md5');
  for (const md5 of partMd5s) hash.update(Buffer.from(md5, 'hex'));
  return `${hash.digest('hex')}-${partMd5s.length}`;
}

/** The part sizes of other tools' multipart uploads: the AWS CLI's and SDKs' 8 MiB, S3's smallest 5 MiB, and 16 MiB. */
export const OTHER_TOOLS_PART_SIZES = [8 * 1024 * 1024, 5 * 1024 * 1024, 16 * 1024 * 1024];

/**
 * Whether `etag` (a multipart ETag, MD5-N) is the file's at one of `partSizes`
 * that cut `size` bytes into N parts. Parts already digested (`known`) are
 * used as they are; the other sizes cost one read of the file, all at once.
 */
export async function isMultipartEtagOf(
  etag: string,
  file: { handle: ReadableFile; size: number; known?: { size: number; md5s: string[] } | undefined },
  partSizes: readonly number[],
  signal: AbortSignal,
): Promise<boolean> {
  const match = /^[0-9a-f]{32}-(\d+)$/.exec(etag);
  if (!match) return false;
  const count = Number(match[1]);
  const fitting = [...new Set(partSizes)].filter((size) => Math.max(1, Math.ceil(file.size / size)) === count);
  if (file.known && fitting.includes(file.known.size) && multipartEtag(file.known.md5s) === etag) return true;
  const toRead = fitting.filter((size) => size !== file.known?.size);
  if (toRead.length === 0) return false;
  const hashers = toRead.map((size) => new PartHasher(size));
  const buffer = Buffer.allocUnsafe(DIGEST_READ);
  for (let position = 0; ;) {
    if (signal.aborted) throw new Error('aborted');
    const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) break;
    for (const hasher of hashers) hasher.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hashers.some((hasher) => multipartEtag(hasher.digest()) === etag);
}
