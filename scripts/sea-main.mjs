// The program of the self-contained executable (scripts/package.mjs): one
// `logjam` binary holding both commands, run as logjam-compress or
// logjam-upload by the name it is called by (a link or a copy of that name),
// or as `logjam compress ...` / `logjam upload ...`. Bundled as one CommonJS
// script with everything inlined (a single executable application loads no
// files of its own from disk); each command's module is only initialised when
// it runs, and the AWS SDK only when a pass talks to S3, as in the npm install.
import path from 'node:path';
import { sizeThreadpool } from '../packages/core/dist/threadpool.js';
import { defaultJobs } from '../packages/logjam-compress/dist/defaults.js';
import { DEFAULT_JOBS } from '../packages/logjam-upload/dist/defaults.js';

const COMMANDS = {
  'logjam-compress': { defaultJobs, load: () => import('../packages/logjam-compress/dist/cli.js') },
  'logjam-upload': { defaultJobs: () => DEFAULT_JOBS, load: () => import('../packages/logjam-upload/dist/cli.js') },
};

// argv[1] is the name the executable was called by; the command's own arguments follow.
let name = path.basename(process.argv[1] ?? '');
if (!(name in COMMANDS) && `logjam-${process.argv[2]}` in COMMANDS) {
  name = `logjam-${process.argv[2]}`;
  process.argv.splice(1, 2, name);
}
const USAGE = `Usage: logjam-compress [OPTIONS] LOG_DIR...              (or: logjam compress ...)
       logjam-upload [OPTIONS] ARCHIVE_DIR URI_TEMPLATE   (or: logjam upload ...)
       logjam --version | --help
`;
// Both commands are one release: `logjam --version` is theirs.
if (!(name in COMMANDS) && ['--version', '-v'].includes(process.argv[2] ?? '')) {
  name = 'logjam-upload';
  process.argv.splice(1, 1, name);
}
const command = name === 'logjam-compress' || name === 'logjam-upload' ? COMMANDS[name] : undefined;
if (!command && ['--help', '-h'].includes(process.argv[2] ?? '')) {
  process.stdout.write(
    `logjam: one executable holding two commands, run as the one it is called by (a link named\nlogjam-compress or logjam-upload) or named as its first argument.\n\n${USAGE}\nlogjam-compress --help and logjam-upload --help describe their options; man logjam-compress, man logjam-upload.\n`,
  );
  process.exit(0);
}
if (!command) {
  process.stderr.write(
    `logjam: run me as logjam-compress or logjam-upload (a link of that name), or as: logjam compress|upload [ARGS...] (--help for theirs)\n${USAGE}`,
  );
  process.exit(2);
}
// As the npm launchers do: libuv's threadpool sized from --jobs before anything starts it.
sizeThreadpool(process.argv.slice(2), process.env, command.defaultJobs);
command.load().catch((/** @type {unknown} */ error) => {
  console.error(error);
  process.exitCode = 1;
});
