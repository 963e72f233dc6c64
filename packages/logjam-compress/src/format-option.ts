// --format and --level together: the level's range and default are the format's.
import { parseInteger, UsageError } from '@logjam/core';
import { ARCHIVE_FORMATS, type ArchiveFormat } from './archive-format.js';
import { hasZstd, noZstdMessage, ZSTD_LEVELS } from './zstd-frame.js';

const LEVELS: Record<ArchiveFormat, { min: number; max: number; default: number }> = {
  gzip: { min: 1, max: 9, default: 6 },
  zstd: ZSTD_LEVELS,
};

/** The format and level asked for; a UsageError for a format this Node cannot write. */
export function parseFormat(
  formatText: string,
  levelText: string | undefined,
  zstdAvailable = hasZstd(),
  nodeVersion = process.version,
): { format: ArchiveFormat; level: number } {
  const format = ARCHIVE_FORMATS.find((name) => name === formatText.trim().toLowerCase());
  if (!format) throw new UsageError(`--format takes ${ARCHIVE_FORMATS.join(' or ')}, not '${formatText}'`);
  if (format === 'zstd' && !zstdAvailable) throw new UsageError(noZstdMessage(nodeVersion));
  const range = LEVELS[format];
  return {
    format,
    level:
      levelText === undefined ? range.default : parseInteger(`--level (${format})`, levelText, range.min, range.max),
  };
}
