// Every shipped unit runs what the package installs. Each install form is laid
// out in a temporary root as it lands on a host: `npm install -g` (package.json
// `bin`, linked from /usr/local/bin) and the .deb (scripts/deb.mjs stages it,
// with a stand-in for the executable). systemd's own `systemd-analyze verify
// --root` reads each unit there, which checks that ExecStart's program exists
// and is executable; runit, upstart and cron files are resolved along the PATH
// they set. The compress and upload examples of each init system name the same
// folder (compress's LOG_DIR, upload's LOG_DIR/archive).
import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { stageFiles } from '../scripts/deb.mjs';
import { cleanupTmpDirs, repoRoot, tmpDir } from './support/index.ts';
import { canVerifyUnits, verifyUnit } from './support/systemd.ts';

const run = promisify(execFile);
const COMMANDS = ['logjam-compress', 'logjam-upload'] as const;
const HAS_ANALYZE = !spawnSync('systemd-analyze', ['--version']).error;

interface Form {
  name: string;
  /** The root the package's files are laid out in. */
  root: string;
  /** Where the systemd units, runit, upstart and cron.d files of this form are. */
  units: string;
  examples: string;
}

/** `npm install -g` into /usr/local: each `bin` entry linked from bin/ to the package under lib/node_modules/, made executable. */
async function npmRoot(): Promise<Form> {
  const root = await tmpDir('logjam-npm-root-');
  await fs.mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
  for (const pkg of COMMANDS) {
    const manifest = JSON.parse(await fs.readFile(path.join(repoRoot, 'packages', pkg, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    for (const [name, file] of Object.entries(manifest.bin)) {
      const installed = path.join(root, 'usr/local/lib/node_modules', pkg, file);
      await fs.mkdir(path.dirname(installed), { recursive: true });
      await fs.copyFile(path.join(repoRoot, 'packages', pkg, file), installed);
      await fs.chmod(installed, 0o755);
      await fs.symlink(
        path.relative(path.join(root, 'usr/local/bin'), installed),
        path.join(root, 'usr/local/bin', name),
      );
    }
  }
  // Where an operator puts a unit of their own.
  const units = path.join(root, 'etc/systemd/system');
  await fs.cp(path.join(repoRoot, 'systemd'), units, { recursive: true });
  return { name: 'npm install -g', root, units, examples: repoRoot };
}

/** The .deb's files, staged by the code that builds it; a small stand-in for the executable. */
async function debRoot(): Promise<Form> {
  const work = await tmpDir('logjam-deb-root-');
  const exe = path.join(work, 'logjam');
  await fs.writeFile(exe, '#!/bin/sh\n', { mode: 0o755 });
  const root = path.join(work, 'root');
  stageFiles({ root: repoRoot, stage: root, version: '0.0.0', exe, helpOf: (name: string) => `${name} --help\n` });
  return {
    name: '.deb',
    root,
    units: path.join(root, 'lib/systemd/system'),
    examples: path.join(root, 'usr/share/doc/logjam/examples'),
  };
}

/** Whether `command` is found, executable, along `searchPath` inside `root`. */
async function onPath(root: string, searchPath: string, command: string): Promise<string | undefined> {
  for (const dir of searchPath.split(':')) {
    const file = path.join(dir, command);
    if (
      await fs.access(path.join(root, file), constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return undefined;
}

/** The words of a command line, quotes removed (the shipped files quote only the template). */
const words = (line: string) =>
  (line.match(/'[^']*'|"[^"]*"|\S+/g) ?? []).map((w) => w.replace(/^(['"])(.*)\1$/, '$2'));
/** The folders and templates given to the command `name` in `line` (its absolute paths and s3:// URIs), $VARIABLES expanded from `vars`. */
function positionals(line: string, name: string, vars: Record<string, string> = {}): string[] {
  const all = words(line);
  expect(all, line).to.include(name);
  return all
    .slice(all.indexOf(name) + 1)
    .map((w) => w.replace(/^\$\{?(\w+)\}?$/, (_, v: string) => vars[v] ?? w))
    .filter((w) => /^(\/|s3:\/\/)/.test(w));
}
/** VAR=value lines of a shell script or a crontab. */
const assignments = (text: string) =>
  Object.fromEntries(
    [...text.matchAll(/^(?:export )?([A-Z_]+)=('[^']*'|\S+)$/gm)].map((m) => [m[1]!, m[2]!.replace(/^'(.*)'$/, '$1')]),
  );

describe('shipped units run what each package installs', function () {
  this.timeout(60_000);
  const forms: Form[] = [];
  before(async () => forms.push(await npmRoot(), await debRoot()));
  after(cleanupTmpDirs);

  it('systemd: systemd-analyze verify --root finds no problem in either form, and ExecStart is the installed command', async function () {
    if (!canVerifyUnits) {
      console.log(
        '      (skipped: systemd-analyze or systemd units are not installed here; .ci/run installs the systemd package)',
      );
      this.skip();
    }
    for (const form of forms) {
      for (const name of COMMANDS) {
        const unit = path.join(form.units, `${name}.service`);
        expect(await verifyUnit(form.root, unit), `${form.name}: ${name}.service`).to.deep.equal([]);
        const execStart = (await fs.readFile(unit, 'utf8')).split('\n').find((line) => line.startsWith('ExecStart='))!;
        const program = words(execStart.slice('ExecStart='.length))[0]!;
        expect(program, `${form.name}: ${execStart}`).to.equal(
          form.name === '.deb' ? `/usr/bin/${name}` : `/usr/local/bin/${name}`,
        );
      }
    }
  });

  it("systemd-analyze verify --root does check ExecStart: the .deb's unit fails where npm installed (the check is not vacuous)", async function () {
    if (!canVerifyUnits) this.skip();
    const deb = forms.find((f) => f.name === '.deb')!;
    const npm = await npmRoot();
    await fs.copyFile(path.join(deb.units, 'logjam-compress.service'), path.join(npm.units, 'logjam-compress.service'));
    const problems = await verifyUnit(npm.root, path.join(npm.units, 'logjam-compress.service'));
    expect(problems.join('\n')).to.match(/Command \/usr\/bin\/logjam-compress is not executable/);
  });

  it('runit, upstart and cron: every command is found along the PATH the file sets, in either form', async () => {
    for (const form of forms) {
      const checks: Array<{ file: string; searchPath: string | undefined; lines: string[] }> = [];
      for (const name of COMMANDS) {
        const runScript = await fs.readFile(path.join(form.examples, `runit/${name}/run`), 'utf8');
        checks.push({
          file: `runit/${name}/run`,
          searchPath: assignments(runScript).PATH,
          lines: runScript.split('\n').filter((l) => /^(\[.*\] && )?exec chpst /.test(l)),
        });
        const job = await fs.readFile(path.join(form.examples, `upstart/${name}.conf`), 'utf8');
        checks.push({
          file: `upstart/${name}.conf`,
          searchPath: /^env PATH=(\S+)$/m.exec(job)?.[1],
          lines: job.split('\n').filter((l) => l.startsWith('exec ')),
        });
      }
      const cron = await fs.readFile(path.join(form.examples, 'cron.d/logjam'), 'utf8');
      checks.push({
        file: 'cron.d/logjam',
        searchPath: assignments(cron).PATH,
        lines: cron.split('\n').filter((l) => /^[\d*]/.test(l)),
      });
      for (const { file, searchPath, lines } of checks) {
        expect(searchPath, `${form.name}: ${file} sets PATH`).to.be.a('string');
        expect(lines, `${form.name}: ${file}`).not.to.be.empty;
        for (const line of lines) {
          const command = words(line).find((w) => /^logjam-(compress|upload)$/.test(w));
          expect(command, `${form.name}: ${file}: ${line}`).to.be.a('string');
          expect(
            await onPath(form.root, searchPath!, command!),
            `${form.name}: ${file}: ${command} along ${searchPath}`,
          ).to.be.a('string');
        }
      }
    }
  });

  it('the compress and upload examples of each init system watch the same folder: upload ships LOG_DIR/archive', async () => {
    const read = (file: string) => fs.readFile(path.join(repoRoot, file), 'utf8');
    const line = (text: string, test: RegExp) => text.split('\n').find((l) => test.test(l))!;
    const folders: Record<string, { compress: string[]; upload: string[] }> = {};
    const units = {
      compress: await read('systemd/logjam-compress.service'),
      upload: await read('systemd/logjam-upload.service'),
    };
    const execStart = (unit: string) => line(unit, /^ExecStart=/).slice('ExecStart='.length);
    folders.systemd = {
      compress: positionals(execStart(units.compress), '/usr/local/bin/logjam-compress'),
      upload: positionals(execStart(units.upload), '/usr/local/bin/logjam-upload'),
    };
    const runit = { compress: await read('runit/logjam-compress/run'), upload: await read('runit/logjam-upload/run') };
    folders.runit = {
      compress: positionals(line(runit.compress, /^exec chpst /), 'logjam-compress'),
      upload: positionals(line(runit.upload, /^exec chpst /), 'logjam-upload', assignments(runit.upload)),
    };
    const upstart = {
      compress: await read('upstart/logjam-compress.conf'),
      upload: await read('upstart/logjam-upload.conf'),
    };
    folders.upstart = {
      compress: positionals(line(upstart.compress, /^exec /), 'logjam-compress'),
      upload: positionals(line(upstart.upload, /^exec /), 'logjam-upload'),
    };
    const cron = await read('cron.d/logjam');
    folders.cron = {
      compress: positionals(line(cron, /^\d.* logjam-compress /), 'logjam-compress'),
      upload: positionals(line(cron, /^\d.* logjam-upload /), 'logjam-upload'),
    };
    for (const [system, { compress, upload }] of Object.entries(folders)) {
      expect(compress, `${system}: compress's LOG_DIR`).to.have.length(1);
      expect(upload[0]!.replace(/\/$/, ''), `${system}: upload's ARCHIVE_DIR`).to.equal(
        `${compress[0]!.replace(/\/$/, '')}/archive`,
      );
      expect(upload[1], `${system}: upload's template`).to.match(/^s3:\/\//);
    }
    // The same folder in every init system's example.
    expect(new Set(Object.values(folders).map((f) => f.compress[0]!.replace(/\/$/, '')))).to.have.property('size', 1);
  });

  it("the systemd units' sandbox: its directives, the log folder writable, and the exposure docs/security.md states", async function () {
    if (!HAS_ANALYZE) this.skip();
    const documented = await fs.readFile(path.join(repoRoot, 'docs/security.md'), 'utf8');
    for (const name of COMMANDS) {
      const file = path.join(repoRoot, `systemd/${name}.service`);
      const unit = await fs.readFile(file, 'utf8');
      for (const directive of [
        'NoNewPrivileges=yes',
        'ProtectSystem=strict',
        'ProtectHome=yes',
        'PrivateDevices=yes',
        'CapabilityBoundingSet=',
        'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
        'UMask=0027',
      ]) {
        expect(unit.split('\n'), `${name}.service`).to.include(directive);
      }
      // Every folder the service writes in is under a ReadWritePaths= (else ProtectSystem=strict makes it read-only).
      const writable = [...unit.matchAll(/^ReadWritePaths=(\S+)$/gm)].map((m) => m[1]!);
      const folder = words(
        unit
          .split('\n')
          .find((l) => l.startsWith('ExecStart='))!
          .slice('ExecStart='.length),
      ).find((w) => w.startsWith('/var/'))!;
      expect(
        writable.some((w) => folder === w || folder.startsWith(`${w}/`)),
        `${name}.service: ${folder} under ${writable.join(' ')}`,
      ).to.equal(true);
      const { stdout, stderr } = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', file], {
        env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
      }).catch((error: { stdout?: string; stderr?: string }) => ({
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? '',
      }));
      const exposure = /Overall exposure level for \S+: (\d+\.\d) (\w+)/.exec(stdout + stderr);
      expect(exposure, stdout + stderr).not.to.equal(null);
      expect(Number(exposure![1]), `${name}.service`).to.be.below(2);
      expect(documented, `docs/security.md states ${name}.service's exposure`).to.match(
        new RegExp(`^\\| ${name}\\.service \\| [^|]+ \\| ${exposure![1]} ${exposure![2]} \\|$`, 'm'),
      );
      expect(unit, `${name}.service's comment states its exposure`).to.include(
        `on this file: ${exposure![1]} (${exposure![2]};`,
      );
    }
  });
});
