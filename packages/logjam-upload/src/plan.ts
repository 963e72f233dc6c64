// --dry-run: what would go where, without a request or a write.
import path from 'node:path';
import type { UploadSettings } from './context.js';
import { listPending } from './ledger.js';
import { displayName, oneLine } from '@logjam/core';
import { fieldValues, renderBucket, renderKey, s3Uri } from './template.js';

/** The pending files and the URIs they would go to (conflicts cannot be known without asking S3). */
export async function plan(
  settings: Pick<UploadSettings, 'archiveDir' | 'template' | 'hostname'>,
): Promise<Array<{ file: string; uri: string }>> {
  const pending = await listPending(settings.archiveDir);
  return pending.map((log) => {
    const values = fieldValues(log, settings.hostname);
    let uri: string;
    try {
      uri = s3Uri(renderBucket(settings.template, values), renderKey(settings.template, values));
    } catch (error) {
      uri = `(fails: ${oneLine(error)})`;
    }
    return { file: path.join(settings.archiveDir, displayName(log.name)), uri };
  });
}
