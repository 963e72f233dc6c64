// The command-line frame both binaries share: common options, and the one
// place where errors become exit codes and one-line messages on stderr.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Builtins, Cli, Command, Option } from 'clipanion';
import * as t from 'typanion';
import { envArgs, envSourceOf, flagSpecs, type EnvArgs } from './env.js';
import { envWarnings } from './env-names.js';
import { readableHelp, type HelpText } from './help.js';
import { ConfigError, endOfRunMessage, exitCodeFor, isUsageError, oneLine, UsageError } from './errors.js';
import { createLogger, LOG_FORMATS, LOG_LEVELS, type LogFormat, type Logger, type LogLevelName } from './log.js';
import { canonicalArgs, optionSpecs } from './argv.js';
import { askedFor, expandedOrAsGiven, parseErrorReason } from './cli-misparse.js';
import { createProgress, type Progress } from './progress.js';
import { createErrorReporter, type ErrorReporter } from './report.js';
import { isDuration, parsedBy } from './options.js';
import { handOverToUser } from './run-as.js';
import { takeServicePass } from './service-pass.js';

/** What a run works with: the logger, the error reporter (SENTRY_DSN) and a --once progress bar. */
export interface RunTools {
  log: Logger;
  reporter: ErrorReporter | undefined;
  progress: Progress | undefined;
}

/** What the options both tools share say of a tool. */
export interface ToolWording {
  /** What --check lists: `the files due for compression`. */
  backlog: string;
  /** The folders it works in: `LOG_DIR or archive/`. */
  folders: string;
  /** What the --user child's environment holds: `HOME root's, no AWS_* variables`. */
  childEnvironment: string;
  /** The variables the --user child keeps besides the common ones (run-as.ts: PATH, LANG, LOGJAM_*, …). */
  keepEnv?: RegExp;
}

export abstract class LogjamCommand extends Command {
  /** Set by each tool: the shared options' descriptions name its folders. */
  static wording: ToolWording = {
    backlog: 'the files waiting',
    folders: 'its folders',
    childEnvironment: "HOME root's",
  };

  logLevel = Option.String('--log-level,-l', 'info', {
    description:
      'Least severe messages to print: debug, info, warning (or warn), error, or critical (only what ends the run) (default: info)',
    validator: t.isEnum(LOG_LEVELS),
  }) as LogLevelName;

  logFormat = Option.String('--log-format', 'text', {
    description: 'Log lines as text, or as one JSON object per line (default: text)',
    validator: t.isEnum(LOG_FORMATS),
  }) as LogFormat;

  check = Option.Boolean('--check', false, {
    description: `Print ${this.wording.backlog}; exit 0 if the oldest is younger than --max-age, 1 if older, 3 for a usage or configuration error (a Nagios / Sensu check); reads only: no network, no lock (default: off)`,
  });

  maxAgeMs = Option.String('--max-age', '2h', {
    description: `With --check: the age of the oldest of ${this.wording.backlog} beyond which the check fails, such as 90m, 2h, 1d or seconds (default: 2h)`,
    validator: isDuration('--max-age'),
  });

  metricsFile = Option.String('--metrics-file', {
    description:
      "After every pass, rewrite this file atomically with metrics in the Prometheus text format, for node_exporter's textfile collector (default: none)",
    validator: parsedBy((file) => path.resolve(file)),
  });

  user = Option.String('--user', {
    description: `Do all the work as this user (and group; default: the user's own), in a child process that becomes that user as su does (its supplementary groups kept; ${this.wording.childEnvironment}): root then never opens, writes or deletes a file in ${this.wording.folders} itself; for folders other users can write (default: the user running it)`,
  });

  insecurePermissions = Option.Boolean('--insecure-permissions', false, {
    description: `As root without --user, work in ${this.wording.folders} though another user owns it, or a group other than root's or every user can write it, accepting that they could try to make root write elsewhere (default: refuse it, as logrotate does)`,
  });

  /** Does the work, as the --user if one is given; returns the exit code. Throws UsageError / ConfigError for the user's mistakes. */
  abstract run(): Promise<number>;

  /** This tool's wording, from its class. */
  private get wording(): ToolWording {
    return (this.constructor as typeof LogjamCommand).wording;
  }

  /** As root, refuse a folder that other users can write: off with --user (the work is then that user's) or --insecure-permissions. */
  protected get permissionRule(): boolean {
    return this.user === undefined && !this.insecurePermissions;
  }

  private logger?: Logger;

  /** Which flags came from which LOGJAM_* variable (set by runCli), to name the variable in a usage error. */
  envSources: Map<string, string> = new Map();
  envValues: NodeJS.ProcessEnv = process.env;
  /** LOGJAM_* variables this binary does not read (set by runCli), said at WARN before the run. */
  envWarnings: string[] = [];
  /** Set when this run is a pass a service started (service-pass.ts): the service's lock, inherited. */
  servicePass: { lockFd: number } | undefined;

  protected get log(): Logger {
    this.logger ??= createLogger({ name: this.cli.binaryName, level: this.logLevel, format: this.logFormat });
    return this.logger;
  }

  /**
   * Says the envWarnings, once: called where the work starts (withTools, a
   * --check), after --user handed over, so that only the process that works says them.
   */
  protected sayEnvWarnings(log: Logger = this.log): void {
    for (const warning of this.envWarnings.splice(0)) log.warn(warning);
  }

  /**
   * Runs `work` with its tools: a progress bar when `progressLabel` is given
   * (drawn only at a terminal; log lines go around it) and, with `report`, the
   * error reporter, to which an error escaping `work` (a start-up error too:
   * the host stopped working) goes, tagged with `directory`.
   */
  protected async withTools(
    options: { progressLabel?: string | undefined; report: boolean; directory: string },
    work: (tools: RunTools) => Promise<number>,
  ): Promise<number> {
    const binary = this.cli.binaryName;
    const progress =
      options.progressLabel === undefined || this.servicePass
        ? undefined
        : createProgress({ label: options.progressLabel, stream: process.stderr });
    const log = progress
      ? createLogger({
          name: binary,
          level: this.logLevel,
          format: this.logFormat,
          write: progress.wrap((line) => void process.stderr.write(line)),
        })
      : this.log;
    this.sayEnvWarnings(log);
    const reporter = options.report
      ? await createErrorReporter({ binary, version: this.cli.binaryVersion ?? '', log })
      : undefined;
    try {
      return await work({ log, reporter, progress });
    } catch (error) {
      reporter?.capture(error, { directory: options.directory });
      throw error;
    } finally {
      progress?.done();
      await reporter?.flush();
    }
  }

  async execute(): Promise<number> {
    this.servicePass = takeServicePass();
    // The service said the warnings, and a pass draws no progress bar.
    if (this.servicePass) this.envWarnings = [];
    try {
      if (this.user !== undefined) {
        const code = await handOverToUser(this.user, this.wording.keepEnv);
        if (code !== null) return code;
      }
      return await this.run();
    } catch (error) {
      // A value checked by the command itself (not by clipanion) may have come from the environment too.
      const variable =
        isUsageError(error) && !(error instanceof ConfigError)
          ? envSourceOf(oneLine(error), this.envSources)
          : undefined;
      const said = variable
        ? new UsageError(
            `environment variable ${variable}=${JSON.stringify(this.envValues[variable])}: ${oneLine(error)}`,
          )
        : error;
      if (!isUsageError(error)) this.log.debug(error instanceof Error && error.stack ? error.stack : String(error));
      return endRun(this.cli.binaryName, said, { format: this.logFormat, check: this.check });
    }
  }
}

/**
 * Says what ended the run and returns its exit code: one line, in the chosen
 * --log-format on stderr (level critical, with the exit code), or, under
 * --check, the one UNKNOWN line a monitoring plugin prints on stdout. A
 * pointer to --help only where the command line is at fault.
 */
export function endRun(binary: string, error: unknown, how: { format: LogFormat; check: boolean }): number {
  const code = exitCodeFor(error, how);
  const commandLine = error instanceof UsageError || (error as { clipanion?: unknown } | null)?.clipanion !== undefined;
  const message = `${endOfRunMessage(error)}${commandLine ? ` (see '${binary} --help')` : ''}`;
  if (how.check) process.stdout.write(`UNKNOWN: ${message}\n`);
  else createLogger({ name: binary, level: 'critical', format: how.format }).critical(message, { exit: code });
  return code;
}

export interface CliInfo {
  binaryName: string;
  binaryVersion: string;
  commands: Array<new () => Command>;
  /** Value names and usage lines for --help. */
  help?: HelpText;
}

/**
 * Runs a command line. Unlike clipanion's own `run`, a mistake on the command
 * line exits 2 with one line on stderr (clipanion prints to stdout and exits 1;
 * under --check, 3 with an UNKNOWN line on stdout).
 * LOGJAM_<FLAG> variables supply flags the command line leaves out.
 */
export async function runCli(info: CliInfo, argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const cli = new Cli({
    binaryName: info.binaryName,
    binaryLabel: info.binaryName,
    binaryVersion: info.binaryVersion,
    enableColors: false,
  });
  for (const command of info.commands) cli.register(command);
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  const context = { ...Cli.defaultContext, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  const options = cli.definitions().flatMap((d) => d.options);
  let fromEnv: EnvArgs = { args: [], sources: new Map() };
  let command: Command;
  try {
    const args = canonicalArgs(argv, optionSpecs(options));
    const asksForHelp = args.some((arg) => arg === '-h' || arg === '--help' || arg === '--version');
    if (!asksForHelp) fromEnv = envArgs(env, flagSpecs(options), args);
    command = cli.process([...fromEnv.args, ...args], context);
    if (command instanceof LogjamCommand)
      Object.assign(command, {
        envSources: fromEnv.sources,
        envValues: env,
        envWarnings: asksForHelp ? [] : envWarnings(env, info.binaryName),
      });
  } catch (error) {
    // Look for the variable in the reason only: the usage lines clipanion appends name every flag.
    const reason = parseErrorReason(error);
    const variable = envSourceOf(reason, fromEnv.sources);
    const message = variable ? `environment variable ${variable}=${JSON.stringify(env[variable])}: ${reason}` : reason;
    return endRun(info.binaryName, new UsageError(message), askedFor(expandedOrAsGiven(argv, options), env));
  }
  if (!(command instanceof LogjamCommand) && !asksFor(argv, '--version')) {
    // --help: clipanion's text, made readable (value names, the usage lines).
    let text = '';
    const collect = { write: (chunk: string) => ((text += chunk), true) } as unknown as typeof process.stdout;
    const code = await cli.run(command, { ...context, stdout: collect });
    process.stdout.write(readableHelp(text, info.binaryName, info.help ?? {}));
    return code;
  }
  return cli.run(command, context);
}

function asksFor(argv: string[], flag: string): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes(flag);
}

/** The version in the package.json one folder above `moduleUrl` (a binary's bin/ or dist/ file). */
export function readVersion(moduleUrl: string): string {
  return (JSON.parse(readFileSync(new URL('../package.json', moduleUrl), 'utf8')) as { version: string }).version;
}

/**
 * The program's end: runs the command line, lets stdout drain, and exits with
 * its code at once (an idle keep-alive socket, such as the SDK's metadata
 * client's, must not keep a cron job alive).
 */
export async function runProgram(info: CliInfo): Promise<never> {
  const code = await runCli(info, process.argv.slice(2));
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
