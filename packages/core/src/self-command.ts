// The command line that runs this same program again (--user's child, a
// service's pass): node, its flags and the script, or a single executable.

/** This program with `args` (default: its own arguments): node + flags + script + arguments, or a single executable + arguments. */
export function selfCommand(args: string[] = process.argv.slice(2)): { file: string; args: string[] } {
  const script = process.argv[1];
  // A single executable application has no script of its own: argv[1] repeats the executable.
  const single = script === undefined || script === process.execPath;
  return { file: process.execPath, args: [...(single ? [] : [...process.execArgv, script]), ...args] };
}
