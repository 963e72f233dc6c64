// The deployment files are part of the product: each is checked as its init
// system would read it, and every command in them must run a binary we ship
// with flags that binary has.
import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanupTmpDirs, repoRoot, runBin, tmpDir, type BinaryName } from './support/index.ts';

const run = promisify(execFile);
const read = (file: string) => fs.readFile(path.join(repoRoot, file), 'utf8');

/** The binaries the packages ship (their package.json `bin`), which the tests run as bundles. */
async function shippedBinaries(): Promise<string[]> {
  const names: string[] = [];
  for (const pkg of ['logjam-compress', 'logjam-upload']) {
    const manifest = JSON.parse(await read(`packages/${pkg}/package.json`)) as { bin: Record<string, string> };
    for (const [name, file] of Object.entries(manifest.bin)) {
      await fs.access(path.join(repoRoot, 'packages', pkg, file), constants.X_OK);
      names.push(name);
    }
  }
  return names;
}

const helpCache = new Map<string, string>();
/** Every flag in `command` (after the binary's name) is one that binary's --help lists. */
async function expectKnownFlags(binary: string, command: string): Promise<void> {
  if (!helpCache.has(binary)) helpCache.set(binary, (await runBin(binary as BinaryName, ['--help'])).stdout);
  const help = helpCache.get(binary)!;
  for (const flag of command.match(/(?<=\s)--[a-z][a-z-]*/g) ?? [])
    expect(help, `${flag} in: ${command}`).to.match(new RegExp(`${flag.replace('--no-', '--')}\\b`));
}

/** One field of a cron time specification: *, N, N-M, lists, /STEP; names for months and days. */
function cronFieldOk(field: string, min: number, max: number, names: string[] = []): boolean {
  return field.split(',').every((part) => {
    const [range, step] = part.split('/');
    if (step !== undefined && !/^[1-9]\d*$/.test(step)) return false;
    if (range === '*') return true;
    const value = (v: string) => {
      const index = names.indexOf(v.toLowerCase());
      return index >= 0 ? index + (min === 0 ? 0 : 1) : /^\d+$/.test(v) ? Number(v) : NaN;
    };
    const [from, to] = range!.split('-').map(value);
    if (from === undefined || Number.isNaN(from) || from < min || from > max) return false;
    return to === undefined || (!Number.isNaN(to) && to >= from && to <= max);
  });
}

describe('deployment files', () => {
  after(cleanupTmpDirs);
  it('cron.d/logjam: five valid time fields, a user, then a shipped binary with --once and flags it has', async () => {
    const text = await read('cron.d/logjam');
    expect(text.endsWith('\n'), 'cron ignores a last line without a newline').to.equal(true);
    const entries = text
      .split('\n')
      .map((line) => line.trim())
      // Comments, blank lines and VARIABLE=value lines are not entries.
      .filter((line) => line && !line.startsWith('#') && !/^[A-Za-z_][A-Za-z0-9_]*\s*=/.test(line));
    const shipped = await shippedBinaries();
    const months = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
    const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
    const ran = new Set<string>();
    for (const entry of entries) {
      const fields = entry.split(/\s+/);
      const [minute, hour, dom, month, dow, user, command] = fields;
      expect(cronFieldOk(minute!, 0, 59), `minute in: ${entry}`).to.equal(true);
      expect(cronFieldOk(hour!, 0, 23), `hour in: ${entry}`).to.equal(true);
      expect(cronFieldOk(dom!, 1, 31), `day of month in: ${entry}`).to.equal(true);
      expect(cronFieldOk(month!, 1, 12, months), `month in: ${entry}`).to.equal(true);
      expect(cronFieldOk(dow!, 0, 7, days), `day of week in: ${entry}`).to.equal(true);
      expect(user, `user in: ${entry}`).to.match(/^[a-z_][a-z0-9_-]*$/);
      expect(shipped, `command in: ${entry}`).to.include(command);
      expect(entry).to.include(' --once');
      await expectKnownFlags(command!, entry);
      ran.add(command!);
    }
    expect([...ran].sort()).to.deep.equal(shipped.sort());
    // The field parser itself refuses what cron refuses.
    expect(
      cronFieldOk('61', 0, 59) ||
        cronFieldOk('*/0', 0, 59) ||
        cronFieldOk('5-2', 0, 59) ||
        cronFieldOk('foo', 1, 12, months),
    ).to.equal(false);
    expect(cronFieldOk('*/15', 0, 59) && cronFieldOk('mon-fri', 0, 7, days) && cronFieldOk('1,15', 1, 31)).to.equal(
      true,
    );
  });

  for (const service of ['logjam-compress', 'logjam-upload']) {
    it(`runit/${service}: run and log/run are executable, pass sh -n, and exec their program in the foreground`, async () => {
      for (const file of [`runit/${service}/run`, `runit/${service}/log/run`]) {
        await fs.access(path.join(repoRoot, file), constants.X_OK);
        expect(await read(file)).to.match(/^#!\/bin\/sh\n/);
        const syntax = spawnSync('sh', ['-n', path.join(repoRoot, file)], { encoding: 'utf8' });
        expect(syntax.status, `${file}: ${syntax.stderr}`).to.equal(0);
      }
      const runScript = await read(`runit/${service}/run`);
      expect(runScript).to.match(/^exec 2>&1$/m);
      const execs = runScript
        .split('\n')
        .filter((line) => /(^|&&\s*)exec\s+(chpst\s+(-\S+\s+\S+\s+)*)?logjam-/.test(line));
      expect(execs, 'exec of the binary').not.to.be.empty;
      for (const line of execs) {
        expect(line).to.include(` ${service} `);
        expect(line, 'a service, not --once').not.to.include('--once');
        await expectKnownFlags(service, line);
      }
      expect(await read(`runit/${service}/log/run`)).to.match(/^exec (chpst .*)?svlogd /m);
    });

    it(`upstart/${service}.conf execs ${service} in the foreground`, async () => {
      const job = await read(`upstart/${service}.conf`);
      const exec = job.split('\n').find((line) => line.startsWith('exec '));
      expect(exec).to.match(new RegExp(`^exec ${service} (?!.*--once)\\S+`));
      await expectKnownFlags(service, exec!);
    });

    it(`systemd/${service}.service runs ${service} in the foreground with flags it has`, async () => {
      const unit = await read(`systemd/${service}.service`);
      const execStart = unit.split('\n').find((line) => line.startsWith('ExecStart='))!;
      expect(execStart).to.match(new RegExp(`^ExecStart=/usr/local/bin/${service} (?!.*--once)\\S+`));
      await expectKnownFlags(service, execStart);
      expect(unit).to.match(/^\[Install\]$/m);
    });

    it(`systemd/${service}.service passes systemd-analyze verify`, async function () {
      if (spawnSync('systemd-analyze', ['--version']).error) {
        console.log('      (skipped: systemd-analyze is not installed here)');
        this.skip();
      }
      const unit = path.join(repoRoot, `systemd/${service}.service`);
      const problems = await verify(unit);
      // The one complaint allowed: the binary is not installed on this machine
      // (verify checks that ExecStart's program exists; the User= need not).
      // Anything else — an unknown key, a bad value, a syntax error — fails.
      const allowed = new RegExp(
        `^${service}\\.service: Command /usr/local/bin/${service} is not executable: No such file or directory$`,
      );
      expect(
        problems.filter((line) => !allowed.test(line)),
        problems.join('\n'),
      ).to.deep.equal([]);
    });
  }

  it('every way of running logjam-upload gives it a splay, as LOGJAM_SPLAY (a rollback to the Python logjam ignores it)', async () => {
    const splay = {
      'cron.d/logjam': /^LOGJAM_SPLAY=600$/m,
      'runit/logjam-upload/run': /^export LOGJAM_SPLAY=600$/m,
      'upstart/logjam-upload.conf': /^env LOGJAM_SPLAY=600$/m,
      'systemd/logjam-upload.service': /^Environment=LOGJAM_SPLAY=600$/m,
    };
    for (const [file, setting] of Object.entries(splay)) {
      const text = await read(file);
      expect(text, file).to.match(setting);
      const commands = text.split('\n').filter((line) => !line.trimStart().startsWith('#'));
      expect(commands.join('\n'), `${file}: --splay on a command line would break the Python logjam`).not.to.include(
        '--splay',
      );
    }
  });

  it('systemd-analyze verify, as used above, does catch a broken unit (the check is not vacuous)', async function () {
    if (spawnSync('systemd-analyze', ['--version']).error) this.skip();
    const broken = path.join(await tmpDir('logjam-unit-'), 'logjam-compress.service');
    const unit = (await read('systemd/logjam-compress.service'))
      .replace('Restart=on-failure', 'Restart=sometimes')
      .replace('Nice=10', 'Nicee=10');
    await fs.writeFile(broken, unit);
    const problems = await verify(broken);
    expect(problems.join('\n'))
      .to.match(/restart specifier/)
      .and.to.match(/Unknown key 'Nicee'/);
  });
});

/** The diagnostics of `systemd-analyze verify`, one per line (it exits 1 on any, so its exit code alone says little). */
async function verify(unit: string): Promise<string[]> {
  const result = await run('systemd-analyze', ['verify', '--man=no', unit], {
    env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
  }).then(
    (r) => r.stdout + r.stderr,
    (error: { stdout?: string; stderr?: string }) => (error.stdout ?? '') + (error.stderr ?? ''),
  );
  return result.split('\n').filter(Boolean);
}
