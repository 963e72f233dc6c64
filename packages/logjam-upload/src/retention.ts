// --delete-uploaded-after: local archives that S3 confirmed long enough ago go.
import type { Logger } from '@logjam/core';
import { listExpired, removeUploaded } from './ledger.js';

export interface CleanupSettings {
  archiveDir: string;
  ageMs: number;
  dryRun: boolean;
  log: Logger;
  now?: number;
}

/** Removes archives (and markers) that S3 confirmed longer ago than ageMs; the count removed. */
export async function deleteUploaded(settings: CleanupSettings): Promise<number> {
  const expired = await listExpired(settings.archiveDir, settings.ageMs, settings.now);
  let removed = 0;
  for (const { name, uploadedAt } of expired) {
    const since = new Date(uploadedAt).toISOString();
    if (settings.dryRun) {
      settings.log.info('would remove uploaded archive', { file: name, uploaded: since });
      continue;
    }
    const { archiveRemoved } = await removeUploaded(settings.archiveDir, name);
    if (archiveRemoved) {
      removed += 1;
      settings.log.info('removed uploaded archive', { file: name, uploaded: since });
    } else {
      settings.log.debug('removed a marker whose archive was gone', { file: name });
    }
  }
  return removed;
}
