// Errors become exit codes in exactly one place: LogjamCommand.execute (cli.ts).
import { UsageError } from 'clipanion';
import { showPaths } from './shown-paths.js';

export { UsageError };

export const EXIT_OK = 0;
/** At least one file failed; the others were still done. */
export const EXIT_FAILED = 1;
/** The command line or the configuration is wrong: nothing was attempted. */
export const EXIT_USAGE = 2;

/**
 * A configuration problem found at start (no credentials, a missing bucket,
 * access denied): exit 2 with one line, no stack trace.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Whether an error is the user's to fix (exit 2) rather than a failure (exit 1). */
export function isUsageError(error: unknown): boolean {
  return error instanceof UsageError || error instanceof ConfigError || (error as { clipanion?: unknown })?.clipanion !== undefined;
}

/** The error's message on one line, for a log line or a usage message. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return showPaths(message.replace(/\s*\n\s*/g, ' ').trim());
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
