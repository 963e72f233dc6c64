// Marking an archive uploaded, once S3 has it; a marker that cannot be written is said as such, not as an S3 error.
import { errorCode, oneLine } from '@logjam/core';
import type { PassContext } from './context.js';
import { markerDir, type MarkerWriter } from './ledger.js';

/** The file is in S3 but its marker could not be written: said in its own words, not as an S3 error. */
export class MarkerError extends Error {
  override name = 'MarkerError';
}

/**
 * Creates the marker, and returns the promise that it becomes durable. When
 * either fails, the error says that S3 has the file and what to fix (the next
 * run only re-checks it).
 */
export async function mark(
  ctx: PassContext,
  markers: MarkerWriter,
  name: string,
  uri: string,
): Promise<{ durable: Promise<void> }> {
  const explain = (error: unknown) => {
    const dir = markerDir(ctx.archiveDir);
    const code = errorCode(error);
    const fix =
      code === 'EACCES' || code === 'EPERM'
        ? `make ${dir} writable by this user (uid ${process.getuid?.() ?? '?'})`
        : code === 'ENOSPC' || code === 'EDQUOT'
          ? `free some space for ${dir}`
          : `check ${dir}`;
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'ENOSPC'
          ? 'no space left'
          : code === 'EDQUOT'
            ? 'disk quota used up'
            : oneLine(error);
    return new MarkerError(
      `in S3 as ${uri}, but cannot write its marker in ${dir} (${why}): ${fix}; the next run finds it in S3 and only writes the marker`,
    );
  };
  let durable: Promise<void>;
  try {
    ({ durable } = await markers.create(name));
  } catch (error) {
    throw explain(error);
  }
  return { durable: durable.catch((error: unknown) => Promise.reject(explain(error))) };
}
