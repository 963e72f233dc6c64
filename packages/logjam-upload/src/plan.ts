// --dry-run: what would go where, without a request or a write.
import path from 'node:path';
import type { UploadSettings } from './context.js';
import { listPending } from './ledger.js';
import { fieldValues, renderKey, s3Uri } from './template.js';

/** The pending files and the URIs they would go to (conflicts cannot be known without asking S3). */
export async function plan(settings: Pick<UploadSettings, 'archiveDir' | 'template' | 'hostname'>): Promise<Array<{ file: string; uri: string }>> {
  const pending = await listPending(settings.archiveDir);
  return pending.map((log) => ({
    file: path.join(settings.archiveDir, log.name),
    uri: s3Uri(settings.template.bucket, renderKey(settings.template, fieldValues(log, settings.hostname))),
  }));
}
