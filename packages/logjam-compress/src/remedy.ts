// What the operator can do about a file that failed to compress: the fix for
// each file system error, naming the place as the user gave it.
import path from 'node:path';
import { errorCode, showPaths } from '@logjam/core';
import { ARCHIVE_DIR } from './compress.js';

/** What the user can do about a file system error, naming the place; undefined when there is nothing to say. */
export function remedy(error: unknown, io: string, through: string): string | undefined {
  // The directory is reached through its descriptor (core's walk): people read its name.
  const dir = showPaths(io);
  const file = showPaths(through);
  const code = errorCode(error);
  const archiveDir = path.join(dir, ARCHIVE_DIR);
  const given = (error as { path?: unknown } | null)?.path;
  const where = typeof given === 'string' ? showPaths(given) : given;
  const inArchive = typeof where === 'string' && path.dirname(where) === archiveDir;
  const user = `uid ${process.getuid?.() ?? '?'}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left for ${archiveDir}: free some space there; the source is kept and is compressed again on the next pass`;
    case 'ENAMETOOLONG':
      return `its archive name (the name plus .gz or .zst, or a duplicate-timestamp name) is longer than the file system allows: give ${file} a shorter name; it is kept`;
    case 'EROFS':
      return `${inArchive ? archiveDir : dir} is on a read-only file system; the source is kept`;
    case 'EACCES':
    case 'EPERM':
      if (inArchive)
        return `${archiveDir} is not writable by this user (${user}): make it writable (chown it to this user), or run logjam-compress as the user that owns the logs; the source is kept`;
      if (where === file)
        return `${file} is not readable by this user (${user}): run logjam-compress as the user that writes the logs (or root), or make the file readable; it is kept`;
      return `permission denied (${user}): run logjam-compress as the user that owns ${dir}`;
    default:
      return undefined;
  }
}
