// Man pages: each command's --help as it prints it, preformatted (clipanion's
// help is laid out already). The one source of both the .deb's pages
// (scripts/deb.mjs) and those `npm install -g` links into share/man/man1 (the
// packages' `man` field): run after the bundle (`npm run build`), it writes
// packages/<command>/man/<command>.1 from the built binary's --help.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const COMMANDS = ['logjam-compress', 'logjam-upload'];

/**
 * A man page of `name` from its --help text.
 * @param {string} name @param {string} help @param {string} version @param {string} date
 */
export function manPage(name, help, version, date) {
  const roff = (/** @type {string} */ line) => line.replace(/\\/g, '\\e').replace(/^([.'])/, '\\&$1');
  const [summary] = help.trim().split('\n');
  return [
    `.TH ${name.toUpperCase()} 1 "${date}" "logjam ${version}" "User Commands"`,
    '.SH NAME',
    `${name} \\- ${roff((summary ?? '').replace(/^━+\s*/, '').trim() || name)}`,
    '.SH DESCRIPTION',
    '.nf',
    ...help.replace(/\s+$/, '').split('\n').map(roff),
    '.fi',
    '',
  ].join('\n');
}

/** The --help of a command as the npm install runs it (the package's bin launcher). @param {string} root @param {string} name */
export function helpOf(root, name) {
  return execFileSync(process.execPath, [path.join(root, 'packages', name, 'bin', `${name}.cjs`), '--help'], {
    encoding: 'utf8',
  });
}

/** Writes packages/<command>/man/<command>.1 for both commands, dated by the bundle. @param {string} root */
export function writeManPages(root) {
  for (const name of COMMANDS) {
    const pkg = path.join(root, 'packages', name);
    const { version } = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8'));
    const date = new Date(statSync(path.join(pkg, 'bin', `${name}.cjs`)).mtimeMs).toISOString().slice(0, 10);
    mkdirSync(path.join(pkg, 'man'), { recursive: true });
    writeFileSync(path.join(pkg, 'man', `${name}.1`), manPage(name, helpOf(root, name), version, date));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  writeManPages(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..'));
