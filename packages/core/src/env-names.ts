// LOGJAM_* variables logjam does not read, named at start: a typo
// (LOGJAM_MIN_AEG) would otherwise be ignored without a word, and a mode left
// in an environment (LOGJAM_DRY_RUN=1) would turn a service into a no-op.
import { COMMAND_LINE_ONLY, envName } from './env.js';

/** The long flags of both binaries: a variable of the other one is no typo (one environment file may serve both). */
export const TOOL_FLAGS: Record<string, readonly string[]> = {
  'logjam-compress': [
    '--once',
    '--format',
    '--level',
    '--min-age',
    '--jobs',
    '--interval',
    '--verify',
    '--check',
    '--max-age',
    '--metrics-file',
    '--user',
    '--insecure-permissions',
    '--log-level',
    '--log-format',
  ],
  'logjam-upload': [
    '--once',
    '--dry-run',
    '--region',
    '--endpoint-url',
    '--force-path-style',
    '--storage-class',
    '--sse',
    '--sse-kms-key-id',
    '--conditional-writes',
    '--jobs',
    '--interval',
    '--multipart-threshold',
    '--part-size',
    '--delete-uploaded-after',
    '--check',
    '--max-age',
    '--audit',
    '--splay',
    '--hostname',
    '--retry-mode',
    '--metrics-file',
    '--user',
    '--insecure-permissions',
    '--log-level',
    '--log-format',
  ],
};

/** Variables of logjam's own development (tests, CI) and its own plumbing (the --user child's LOGJAM_BECOME_USER, a service's pass child's LOGJAM_SERVICE_PASS, the restarted service's LOGJAM_LEAN_SERVICE), not of its users. */
const DEVELOPMENT =
  /^LOGJAM_(TEST_\w+|PACKAGE_TESTS|CI_PACKAGE|RGW_DIR|CPU_REPORT|BECOME_USER|SERVICE_PASS|LEAN_SERVICE)$/;

/** Edit distance (insert, delete, replace, swap two neighbours): LOGJAM_MIN_AEG is 1 from LOGJAM_MIN_AGE. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * A warning for each LOGJAM_* variable in `env` that `binary` does not read:
 * a mode taken from the command line only, or a name no logjam knows (with the
 * closest name this binary knows). Pure.
 */
export function envWarnings(env: NodeJS.ProcessEnv, binary: string): string[] {
  const own = (TOOL_FLAGS[binary] ?? []).filter((flag) => !COMMAND_LINE_ONLY.includes(flag)).map(envName);
  const anyTool = new Set(Object.values(TOOL_FLAGS).flat().map(envName));
  const warnings: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith('LOGJAM_') || own.includes(name) || DEVELOPMENT.test(name)) continue;
    const mode = COMMAND_LINE_ONLY.find((flag) => envName(flag) === name);
    if (mode) {
      warnings.push(
        `${name} is ignored: ${mode} is taken from the command line only, so that one left in an environment cannot turn a service into a no-op; unset it`,
      );
    } else if (!anyTool.has(name)) {
      const closest = [...own].sort((a, b) => editDistance(name, a) - editDistance(name, b) || (a < b ? -1 : 1))[0];
      warnings.push(
        `${name} is not a variable ${binary} knows, and is ignored${closest ? `; did you mean ${closest}?` : ''}`,
      );
    }
  }
  return warnings;
}
