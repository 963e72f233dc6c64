// The command-line forms the Python logjam accepted (argparse), rewritten into
// the canonical forms clipanion parses, so that its cron lines and run scripts
// keep working: unique prefixes of long flags (`--onc`, `--log-lev=debug`) and
// a short flag's value glued on or after '=' (`-lwarning`, `-l=warning`). Pure.
import { UsageError } from './errors.js';

export interface OptionSpec {
  /** Every name of the option: `--log-level`, `-l`. */
  names: string[];
  /** Whether it takes a value (`--level 6`) or is a switch (`--once`). */
  takesValue: boolean;
}

/** Reads clipanion's option definitions (`--log-level,-l #0`, `--once`) into option specs. */
export function optionSpecs(definitions: Array<{ definition: string }>): OptionSpec[] {
  return definitions.map(({ definition }) => {
    const [names, ...rest] = definition.split(' ');
    return { names: names!.split(','), takesValue: rest.length > 0 };
  });
}

/** The builtins every binary has besides its command's options. */
const BUILTINS: OptionSpec[] = [
  { names: ['--help', '-h'], takesValue: false },
  { names: ['--version'], takesValue: false },
];

/**
 * The long flags whose prefixes resolve as they did in the Python tool (where
 * they were its only long flags), even where logjam's newer flags share them:
 * `--log` meant `--log-level` there and keeps meaning it.
 */
export const PYTHON_FLAGS = ['--once', '--log-level', '--help'];

/** argv with every prefix and short-flag form spelled out; throws a UsageError for an ambiguous prefix. */
export function canonicalArgs(argv: string[], options: OptionSpec[]): string[] {
  const specs = [...options, ...BUILTINS];
  const long = new Map<string, OptionSpec>();
  for (const spec of specs) {
    for (const name of spec.names.filter((n) => n.startsWith('--'))) {
      long.set(name, spec);
      // clipanion's switches (not --help, --version) also take a negated form.
      if (!spec.takesValue && !BUILTINS.includes(spec)) long.set(`--no-${name.slice(2)}`, spec);
    }
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const given = eq === -1 ? arg : arg.slice(0, eq);
      const name = resolveLong(given, long);
      if (name === undefined) {
        out.push(arg);
        continue;
      }
      out.push(eq === -1 ? name : `${name}${arg.slice(eq)}`);
      if (eq === -1 && long.get(name)!.takesValue && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    const short = /^(-[a-zA-Z])(.*)$/s.exec(arg);
    const spec = short ? specs.find((s) => s.names.includes(short[1]!)) : undefined;
    if (short && spec?.takesValue) {
      const name = spec.names.find((n) => n.startsWith('--')) ?? short[1]!;
      const glued = short[2]!.startsWith('=') ? short[2]!.slice(1) : short[2]!;
      if (short[2] !== '') out.push(`${name}=${glued}`);
      else if (i + 1 < argv.length) out.push(`${name}=${argv[++i]!}`);
      else out.push(arg);
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** The flag a long name or unique prefix stands for; undefined for no match (left to the parser to refuse). */
function resolveLong(given: string, long: Map<string, OptionSpec>): string | undefined {
  if (long.has(given)) return given;
  if (given.length <= 2) return undefined;
  const candidates = [...long.keys()].filter((name) => name.startsWith(given));
  if (candidates.length === 1) return candidates[0];
  if (candidates.length === 0) return undefined;
  const python = PYTHON_FLAGS.filter((name) => long.has(name) && name.startsWith(given));
  if (python.length === 1) return python[0];
  throw new UsageError(`ambiguous option: ${given} could match ${candidates.join(', ')}`);
}
