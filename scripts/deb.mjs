// The Debian package of the self-contained executable (scripts/package.mjs),
// built with dpkg-deb from a staged tree, no network:
//   /usr/lib/logjam/logjam                         the executable (both commands)
//   /usr/bin/logjam-compress, /usr/bin/logjam-upload  links to it (it runs the one it is called by)
//   /lib/systemd/system/logjam-*.service           installed, not enabled
//   /usr/share/doc/logjam/examples/                runit, upstart, cron.d
//   /usr/share/man/man1/logjam-*.1.gz              from each command's --help (scripts/man.mjs)
// postinst creates the `logjam` system user the service files run as; purge
// leaves it (Debian's custom: its files may outlive the package), and never
// touches the logs, archives or markers.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { manPage } from './man.mjs';

const DEB_ARCH = { x64: 'amd64', arm64: 'arm64' };
const COMMANDS = ['logjam-compress', 'logjam-upload'];
const MAINTAINER = 'logjam maintainers <logjam@example.org>';

/**
 * Every file under `dir`, relative to it, sorted.
 * @param {string} dir @param {string} [prefix] @returns {string[]}
 */
function files(dir, prefix = '') {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? files(dir, path.join(prefix, e.name)) : e.isFile() ? [path.join(prefix, e.name)] : [],
    )
    .sort();
}

/**
 * A systemd unit of systemd/ as the .deb ships it: the repository's says where `npm install -g`
 * puts the commands (/usr/local/bin), the .deb puts them in /usr/bin.
 * @param {string} text @returns {string}
 */
export function debUnit(text) {
  return text
    .replace(
      /^# Where `npm install -g` puts the binary.*$/gm,
      '# Where the logjam .deb puts the binary (an `npm install -g` puts it in /usr/local/bin).',
    )
    .replace(/^(ExecStart=-?)\/usr\/local\/bin\//gm, '$1/usr/bin/');
}

/**
 * Everything the .deb installs, staged under `stage` as it lands on the host (no DEBIAN/).
 * @param {{ root: string, stage: string, version: string, exe: string, helpOf: (name: string) => string }} options
 */
export function stageFiles({ root, stage, version, exe, helpOf }) {
  rmSync(stage, { recursive: true, force: true });
  const at = (/** @type {string[]} */ ...p) => path.join(stage, ...p);
  const dir = (/** @type {string[]} */ ...p) => mkdirSync(at(...p), { recursive: true, mode: 0o755 });
  const write = (/** @type {string} */ file, /** @type {string | Buffer} */ text, mode = 0o644) => {
    mkdirSync(path.dirname(at(file)), { recursive: true, mode: 0o755 });
    writeFileSync(at(file), text, { mode });
    chmodSync(at(file), mode);
  };

  dir('usr/lib/logjam');
  copyFileSync(exe, at('usr/lib/logjam/logjam'));
  chmodSync(at('usr/lib/logjam/logjam'), 0o755);
  dir('usr/bin');
  for (const name of COMMANDS) symlinkSync('../lib/logjam/logjam', at('usr/bin', name));
  dir('lib/systemd/system');
  for (const name of COMMANDS)
    write(
      `lib/systemd/system/${name}.service`,
      debUnit(readFileSync(path.join(root, 'systemd', `${name}.service`), 'utf8')),
    );
  const examples = 'usr/share/doc/logjam/examples';
  dir(examples);
  for (const sub of ['runit', 'upstart', 'cron.d'])
    cpSync(path.join(root, sub), at(examples, sub), { recursive: true });
  const date = new Date(statSync(exe).mtimeMs);
  for (const name of COMMANDS)
    write(
      `usr/share/man/man1/${name}.1.gz`,
      gzipSync(manPage(name, helpOf(name), version, date.toISOString().slice(0, 10)), { level: 9 }),
    );
  write('usr/share/doc/logjam/copyright', readFileSync(path.join(root, 'scripts/deb/copyright'), 'utf8'));
  const rfc2822 = date.toUTCString().replace(/GMT$/, '+0000');
  write(
    'usr/share/doc/logjam/changelog.gz',
    gzipSync(
      `logjam (${version}) unstable; urgency=medium\n\n  * Self-contained build of logjam ${version} (see the project's CHANGELOG).\n\n -- ${MAINTAINER}  ${rfc2822}\n`,
      { level: 9 },
    ),
  );
  write('usr/share/lintian/overrides/logjam', readFileSync(path.join(root, 'scripts/deb/lintian-overrides'), 'utf8'));
}

/**
 * @param {{ root: string, out: string, version: string, arch: 'x64' | 'arm64', exe: string, helpOf: (name: string) => string }} options
 * @returns {string} the .deb's path
 */
export function buildDeb({ root, out, version, arch, exe, helpOf }) {
  const debArch = DEB_ARCH[arch];
  const stage = path.join(out, 'deb', debArch);
  stageFiles({ root, stage, version, exe, helpOf });
  const at = (/** @type {string[]} */ ...p) => path.join(stage, ...p);
  const write = (/** @type {string} */ file, /** @type {string} */ text, mode = 0o644) => {
    writeFileSync(at(file), text, { mode });
    chmodSync(at(file), mode);
  };

  mkdirSync(at('DEBIAN'), { recursive: true, mode: 0o755 });
  const installedKb = Math.ceil(
    files(stage).reduce((/** @type {number} */ sum, /** @type {string} */ f) => sum + statSync(at(f)).size, 0) / 1024,
  );
  write(
    'DEBIAN/control',
    readFileSync(path.join(root, 'scripts/deb/control'), 'utf8')
      .replace('@VERSION@', version)
      .replace('@ARCH@', debArch)
      .replace('@SIZE@', String(installedKb))
      .replace('@MAINTAINER@', MAINTAINER),
  );
  copyFileSync(path.join(root, 'scripts/deb/postinst'), at('DEBIAN/postinst'));
  chmodSync(at('DEBIAN/postinst'), 0o755);
  write(
    'DEBIAN/md5sums',
    files(stage)
      .filter((f) => !f.startsWith('DEBIAN/'))
      .map(
        (f) =>
          `${createHash('md5')
            .update(readFileSync(at(f)))
            .digest('hex')}  ${f}\n`,
      )
      .join(''),
  );

  const deb = path.join(out, `logjam_${version}_${debArch}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', stage, deb], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return deb;
}
