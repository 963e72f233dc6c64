// Every flag can also come from the environment as LOGJAM_<FLAG> (--min-age is
// LOGJAM_MIN_AGE), so that a systemd drop-in or a runit env/ folder configures
// a service without editing its command line. A flag on the command line wins.

export interface FlagSpec {
  /** The long flag, e.g. `--min-age`. */
  flag: string;
  /** Whether it takes a value (`--level 6`) or is a switch (`--once`). */
  takesValue: boolean;
}

export interface EnvArgs {
  /** The arguments the environment adds, to go before the command line's own. */
  args: string[];
  /** Which variable each added flag came from, to name it in an error. */
  sources: Map<string, string>;
}

export class EnvValueError extends Error {
  override name = 'EnvValueError';
}

/**
 * Flags that choose what a run is rather than how it works: taken from the
 * command line only. Left in a service's environment, either would make it
 * do nothing, every run, unseen (env-names.ts says so at WARN instead).
 */
export const COMMAND_LINE_ONLY = ['--check', '--dry-run', '--audit'];

/** `--min-age` → `LOGJAM_MIN_AGE`. */
export function envName(flag: string): string {
  return `LOGJAM_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`;
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);

/** Reads clipanion's option definitions (`--level #0`, `--once`) into flag specs. */
export function flagSpecs(definitions: Array<{ definition: string }>): FlagSpec[] {
  const specs: FlagSpec[] = [];
  for (const { definition } of definitions) {
    const [names, ...rest] = definition.split(' ');
    const flag = names!.split(',').find((name) => name.startsWith('--'));
    if (!flag || flag === '--help' || flag === '--version' || COMMAND_LINE_ONLY.includes(flag)) continue;
    specs.push({ flag, takesValue: rest.length > 0 });
  }
  return specs;
}

/** Whether the command line already sets a flag (`--x`, `--x=1`, `--no-x`). */
function givenOnCommandLine(flag: string, argv: string[]): boolean {
  const negated = `--no-${flag.slice(2)}`;
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg === flag || arg.startsWith(`${flag}=`) || arg === negated) return true;
  }
  return false;
}

/** The arguments that LOGJAM_* variables add; throws EnvValueError for a switch that is neither true nor false. */
export function envArgs(env: NodeJS.ProcessEnv, specs: FlagSpec[], argv: string[]): EnvArgs {
  const args: string[] = [];
  const sources = new Map<string, string>();
  for (const { flag, takesValue } of specs) {
    const name = envName(flag);
    const value = env[name];
    if (value === undefined || value === '' || givenOnCommandLine(flag, argv)) continue;
    if (takesValue) {
      args.push(`${flag}=${value}`);
    } else if (TRUE.has(value.toLowerCase())) {
      args.push(flag);
    } else if (FALSE.has(value.toLowerCase())) {
      args.push(`--no-${flag.slice(2)}`);
    } else {
      throw new EnvValueError(
        `environment variable ${name}=${JSON.stringify(value)} is not a switch value; set it to 1 or 0 (true/false, yes/no, on/off)`,
      );
    }
    sources.set(flag, name);
  }
  return { args, sources };
}

/** The variable named by an error about a flag that came from the environment, if any. */
export function envSourceOf(message: string, sources: Map<string, string>): string | undefined {
  for (const [flag, name] of sources) {
    if (new RegExp(`${flag.replace(/[-]/g, '\\-')}(?![\\w-])`).test(message)) return name;
  }
  return undefined;
}
