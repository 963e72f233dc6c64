// A command line that could not be parsed, read anyway: to say why in one sentence, in the format it asked for.
import { canonicalArgs, optionSpecs } from './argv.js';
import type { LogFormat } from './log.js';

/** The command line with the Python tool's forms expanded (`--chec`, `-ljson`), or as given when they do not expand. */
export function expandedOrAsGiven(argv: string[], options: Parameters<typeof optionSpecs>[0]): string[] {
  try {
    return canonicalArgs(argv, optionSpecs(options));
  } catch {
    return argv;
  }
}

/** The --log-format and --check a command line asks for, read before it could be parsed (to say why it could not). */
export function askedFor(argv: string[], env: NodeJS.ProcessEnv): { format: LogFormat; check: boolean } {
  const end = argv.includes('--') ? argv.indexOf('--') : argv.length;
  const args = argv.slice(0, end);
  let format: string | undefined = env.LOGJAM_LOG_FORMAT;
  args.forEach((arg, i) => {
    if (arg === '--log-format') format = args[i + 1];
    else if (arg.startsWith('--log-format=')) format = arg.slice('--log-format='.length);
  });
  return { format: format === 'json' ? 'json' : 'text', check: args.includes('--check') };
}

/**
 * What is wrong with a command line, in one sentence: clipanion's parse errors
 * append every usage line; keep the reason the first registered command (the
 * binary's own) gives, or else the message's first paragraph.
 */
export function parseErrorReason(error: unknown): string {
  const syntax = error as { candidates?: Array<{ reason: string | null }>; usages?: unknown } | null;
  const reason = Array.isArray(syntax?.candidates)
    ? syntax.candidates.find((candidate) => candidate.reason)?.reason
    : undefined;
  if (reason) return reason;
  const message = error instanceof Error ? error.message : String(error);
  // Only clipanion's syntax errors carry usage lines; other messages (a validator's) are kept whole.
  if (Array.isArray(syntax?.candidates) || Array.isArray(syntax?.usages)) return message.split(/\n\s*\n/)[0] ?? message;
  return message;
}
