// The command-line frame both binaries share: common options, and the one
// place where errors become exit codes and one-line messages on stderr.
import { Builtins, Cli, Command, Option } from 'clipanion';
import * as t from 'typanion';
import { envArgs, envSourceOf, flagSpecs, type EnvArgs } from './env.js';
import { ConfigError, EXIT_FAILED, EXIT_USAGE, isUsageError, oneLine } from './errors.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LogLevel } from './log.js';

export abstract class LogjamCommand extends Command {
  logLevel = Option.String('--log-level', 'info', {
    description: 'Least severe messages to print: debug, info, warn or error (default: info)',
    validator: t.isEnum(LOG_LEVELS),
  }) as LogLevel;

  logFormat = Option.String('--log-format', 'text', {
    description: 'Log lines as text, or as one JSON object per line (default: text)',
    validator: t.isEnum(LOG_FORMATS),
  }) as LogFormat;

  /** Does the work; returns the exit code. Throws UsageError / ConfigError for the user's mistakes. */
  abstract run(log: Logger): Promise<number>;

  private logger?: Logger;

  protected get log(): Logger {
    this.logger ??= createLogger({ name: this.cli.binaryName, level: this.logLevel, format: this.logFormat });
    return this.logger;
  }

  async execute(): Promise<number> {
    try {
      return await this.run(this.log);
    } catch (error) {
      if (isUsageError(error)) {
        writeUsageError(this.cli.binaryName, error);
        return EXIT_USAGE;
      }
      this.log.error(oneLine(error));
      this.log.debug(error instanceof Error && error.stack ? error.stack : String(error));
      return EXIT_FAILED;
    }
  }
}

/** One line on stderr; a pointer to --help only where the command line is at fault, not the configuration. */
function writeUsageError(binary: string, error: unknown): void {
  const hint = error instanceof ConfigError ? '' : ` (see '${binary} --help')`;
  process.stderr.write(`${binary}: ${oneLine(error)}${hint}\n`);
}

/**
 * What is wrong with a command line, in one sentence: clipanion's parse errors
 * append every usage line; keep the reason the first registered command (the
 * binary's own) gives, or else the message's first paragraph.
 */
function parseErrorReason(error: unknown): string {
  const syntax = error as { candidates?: Array<{ reason: string | null }>; usages?: unknown } | null;
  const reason = Array.isArray(syntax?.candidates) ? syntax.candidates.find((candidate) => candidate.reason)?.reason : undefined;
  if (reason) return reason;
  const message = error instanceof Error ? error.message : String(error);
  // Only clipanion's syntax errors carry usage lines; other messages (a validator's) are kept whole.
  if (Array.isArray(syntax?.candidates) || Array.isArray(syntax?.usages)) return message.split(/\n\s*\n/)[0] ?? message;
  return message;
}

export interface CliInfo {
  binaryName: string;
  binaryVersion: string;
  commands: Array<new () => Command>;
}

/**
 * Runs a command line. Unlike clipanion's own `run`, a mistake on the command
 * line exits 2 with one line on stderr (clipanion prints to stdout and exits 1).
 * LOGJAM_<FLAG> variables supply flags the command line leaves out.
 */
export async function runCli(info: CliInfo, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const cli = new Cli({ binaryName: info.binaryName, binaryLabel: info.binaryName, binaryVersion: info.binaryVersion, enableColors: false });
  for (const command of info.commands) cli.register(command);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  const context = { ...Cli.defaultContext, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const asksForHelp = argv.some((arg) => arg === '-h' || arg === '--help' || arg === '--version');
  let fromEnv: EnvArgs = { args: [], sources: new Map() };
  let command: Command;
  try {
    if (!asksForHelp) fromEnv = envArgs(env, flagSpecs(cli.definitions().flatMap((d) => d.options)), argv);
    command = cli.process([...fromEnv.args, ...argv], context);
  } catch (error) {
    // Look for the variable in the reason only: the usage lines clipanion appends name every flag.
    const reason = parseErrorReason(error);
    const variable = envSourceOf(reason, fromEnv.sources);
    writeUsageError(info.binaryName, new Error(variable ? `environment variable ${variable}=${JSON.stringify(env[variable])}: ${reason}` : reason));
    return EXIT_USAGE;
  }
  return cli.run(command, context);
}

/**
 * typanion, the validators clipanion options take (`t.isNumber()`, ...), for
 * the binaries: it is a dependency of core, not of each binary package.
 */
export * as t from 'typanion';
