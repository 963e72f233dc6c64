// The command line that runs this same program again (--user's child, a
// service's pass): node, its flags and the script; or the self-contained
// executable, which holds both commands and is told which one by name.
import path from 'node:path';

/** Whether this is the self-contained executable (a single executable application). */
function isSea(): boolean {
  const sea = process.getBuiltinModule('node:sea') as { isSea?: () => boolean } | undefined;
  return sea?.isSea?.() ?? false;
}

/** This program with `args` (default: its own arguments). */
export function selfCommand(args: string[] = process.argv.slice(2)): { file: string; args: string[] } {
  // The executable's argv[1] is the command's name (scripts/sea-main.mjs): `logjam upload ARGS` runs it.
  if (isSea())
    return { file: process.execPath, args: [path.basename(process.argv[1] ?? '').replace(/^logjam-/, ''), ...args] };
  return { file: process.execPath, args: [...process.execArgv, process.argv[1]!, ...args] };
}
