// What every write to the store carries, and what the store honours of
// If-None-Match: types and pure helpers, shared by the store check
// (conditional.ts, store.ts) and the writes (put.ts, claim.ts).

export interface ConditionalWrites {
  /** PutObject with If-None-Match: * answers 412 when the key is taken. */
  put: boolean;
  /** CompleteMultipartUpload with If-None-Match: * answers 412 when the key is taken. */
  complete: boolean;
}

/** The object settings every write carries. */
export interface ObjectSettings {
  storageClass?: string | undefined;
  sse?: string | undefined;
  sseKmsKeyId?: string | undefined;
}

export function objectParams(settings: ObjectSettings) {
  return {
    ...(settings.storageClass ? { StorageClass: settings.storageClass as never } : {}),
    ...(settings.sse ? { ServerSideEncryption: settings.sse as never } : {}),
    ...(settings.sseKmsKeyId ? { SSEKMSKeyId: settings.sseKmsKeyId } : {}),
  };
}

/** The options behind `settings`, as the user gave them: `--storage-class STANDARD_IA --sse AES256`. */
export function settingsFlags(settings: ObjectSettings): string {
  return [
    settings.storageClass && `--storage-class ${settings.storageClass}`,
    settings.sse && `--sse ${settings.sse}`,
    settings.sseKmsKeyId && `--sse-kms-key-id ${settings.sseKmsKeyId}`,
  ]
    .filter(Boolean)
    .join(' ');
}
