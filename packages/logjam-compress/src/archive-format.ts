// The archive formats logjam-compress writes (--format): gzip, the Python
// tool's (NAME.gz), and zstd (NAME.zst). Each an engine that writes one
// archive (one gzip member, one zstd frame) and verifies it.
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { CHUNK, gzipTo, verifyGzip } from './gzip-blocks.js';
import { verifyZstd, zstdDecompressor, zstdTo, type ZstdOptions } from './zstd-frame.js';

export const ARCHIVE_FORMATS = ['gzip', 'zstd'] as const;
export type ArchiveFormat = (typeof ARCHIVE_FORMATS)[number];

export interface FormatOptions extends ZstdOptions {
  /** Default: gzip. */
  format?: ArchiveFormat | undefined;
}

/** What an engine's write says: the source's length, the archive's size, and what its verify needs (each engine its own). */
export interface Archived {
  length: number;
  size: number;
}

export interface Engine {
  /** Added to the source's name. */
  extension: string;
  write(src: FileHandle, tmp: string, before: Stats, options: FormatOptions): Promise<Archived>;
  /** Given back what this engine's write returned. */
  verify(file: string, written: Archived, options: FormatOptions): Promise<'verified' | 'aborted'>;
  /** A stream that decompresses an archive of this format (any valid one, ours or not). */
  decompressor(): Transform;
}

const ENGINES: Record<ArchiveFormat, Engine> = {
  gzip: {
    extension: '.gz',
    write: gzipTo,
    verify: verifyGzip,
    decompressor: () => zlib.createGunzip({ chunkSize: CHUNK }),
  },
  zstd: { extension: '.zst', write: zstdTo, verify: verifyZstd, decompressor: zstdDecompressor },
};

export function engineOf(format: ArchiveFormat | undefined): Engine {
  return ENGINES[format ?? 'gzip'];
}
