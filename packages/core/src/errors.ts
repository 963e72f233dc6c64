// Exit codes are decided here alone: exitCodeFor for whatever ends a run
// (called by LogjamCommand.execute and runCli, cli.ts), passExitCode for what a pass counted.
import { UsageError } from 'clipanion';
import { showPaths } from './shown-paths.js';

export { UsageError };

export const EXIT_OK = 0;
/** At least one file failed; the others were still done. */
export const EXIT_FAILED = 1;
/** The command line or the configuration is wrong: nothing was attempted. */
export const EXIT_USAGE = 2;
/** --check could not tell (a usage or configuration error): the Nagios plugin guidelines' UNKNOWN. */
export const EXIT_UNKNOWN = 3;

/**
 * A configuration problem found at start (no credentials, a missing bucket,
 * access denied): exit 2 with one line, no stack trace.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** System errors the operator fixes (permissions, a read-only or full disk), not a bug or a passing failure. */
const OPERATOR_CODES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT']);

/** Whether an error is the user's to fix (exit 2) rather than a failure (exit 1). */
export function isUsageError(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    (error as { clipanion?: unknown })?.clipanion !== undefined ||
    OPERATOR_CODES.has(errorCode(error) ?? '')
  );
}

/** The exit code of an error that ends a run: 2 for the operator's to fix, else 1; under --check, 3 (UNKNOWN) for either. */
export function exitCodeFor(error: unknown, options: { check: boolean }): number {
  if (options.check) return EXIT_UNKNOWN;
  return isUsageError(error) ? EXIT_USAGE : EXIT_FAILED;
}

/** A pass's exit code from what it counted: 2 when a directory had a configuration error (the others were still done), else 1 when a file failed, else 0. */
export function passExitCode(counts: { configErrors: number; failed: number }): number {
  if (counts.configErrors > 0) return EXIT_USAGE;
  return counts.failed > 0 ? EXIT_FAILED : EXIT_OK;
}

/** The error's message on one line, for a log line or a usage message. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return showPaths(message.replace(/\s*\n\s*/g, ' ').trim());
}

/** The message that ends a run: one line, a system error in words with its fix, paths as the user gave them. */
export function endOfRunMessage(error: unknown): string {
  return oneLine(plainSystemError(error) ?? error);
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

const PLAIN: Record<string, string> = {
  EACCES: 'permission denied: give this user access to it, or run logjam as its owner (--user)',
  EPERM: 'operation not permitted: give this user access to it, or run logjam as its owner (--user)',
  EROFS: 'the file system is read-only: remount it read-write',
  ENOSPC: 'no space left on the device: free some space',
  EDQUOT: "the user's disk quota is used up: free some space or raise the quota",
  ENOENT: 'no such file or folder: check the path',
  ENOTDIR: 'a part of the path is not a folder: check the path',
};

/**
 * A Node system error (`EACCES: permission denied, open '/proc/self/fd/19/x'`)
 * as a person reads it: `cannot open /var/log/x: permission denied: FIX`.
 */
function plainSystemError(error: unknown): string | undefined {
  const e = error as { code?: unknown; syscall?: unknown; path?: unknown } | null;
  if (typeof e?.code !== 'string' || typeof e.syscall !== 'string' || typeof e.path !== 'string') return undefined;
  const what =
    PLAIN[e.code] ??
    (error instanceof Error ? error.message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*$/, '') : e.code);
  return `cannot ${e.syscall} ${showPaths(e.path)}: ${what}`;
}
