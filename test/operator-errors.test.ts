// What ends a run, through the built binaries: whatever the operator must fix
// is one line in the chosen --log-format (JSON too), exit 2, naming the path and
// the fix, found at start; under --check, UNKNOWN (exit 3) on stdout. No errno
// text, no /proc/self/fd path.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  cleanupTmpDirs,
  compactStamp,
  ls,
  runBin,
  startBin,
  tmpDir,
  waitExit,
  waitFor,
  type BinaryName,
  type RunResult,
} from './support/index.ts';
import { imdsEnv } from './support/imds.ts';
import { startFaultProxy } from './support/proxy.ts';
import { useS3AndImds } from './support/servers.ts';
import { canDropPrivileges, nobodyIds } from './reliability/helpers.ts';

const TEMPLATE = 's3://logs/{prefix}/{year}/{month}/{day}/{filename}';
/** Never contacted: every error here is found before the first request. */
const NO_S3 = ['--endpoint-url', 'http://127.0.0.1:9'];
const ARCHIVE = `app-${compactStamp(Date.UTC(2024, 0, 5, 13))}.log.gz`;
const MARKED = 's3://logs/m/{prefix}/{year}/{month}/{day}/{filename}';

/** The run ended with one line in `format`, exit `code`, that matches `says`; the line's message is returned. */
function expectEnd(result: RunResult, format: 'text' | 'json', code: number, says: RegExp): string {
  expect(result.code, result.stderr).to.equal(code);
  expect(result.stdout).to.equal('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).to.have.length(1);
  let message: string;
  if (format === 'json') {
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(record).to.include({ level: 'critical', exit: code });
    message = String(record.msg);
  } else {
    expect(lines[0]).to.match(new RegExp(`^\\S+Z logjam-(compress|upload) CRITICAL .* exit=${code}$`));
    message = lines[0]!;
  }
  expect(message).to.match(says);
  expect(message, 'no raw errno text, no descriptor path').not.to.match(/EACCES|EPERM|ENOENT|\/proc\/self\/fd/);
  return message;
}

/** Runs `args` in both formats and checks each ends as `expectEnd` says. */
async function endsInBothFormats(binary: BinaryName, args: string[], says: RegExp, code = 2): Promise<void> {
  for (const format of ['text', 'json'] as const)
    expectEnd(await runBin(binary, ['--log-format', format, ...args]), format, code, says);
}

describe('messages that end a run (built binaries)', function () {
  this.timeout(60_000);
  after(cleanupTmpDirs);

  /** A LOG_DIR holding archive/ with one archive, reachable by nobody (mkdtemp makes its root 0700). */
  async function folders(): Promise<{ logs: string; archive: string }> {
    const root = await tmpDir();
    await fs.chmod(root, 0o755);
    const logs = path.join(root, 'logs');
    const archive = path.join(logs, 'archive');
    await fs.mkdir(archive, { recursive: true });
    await fs.writeFile(path.join(archive, ARCHIVE), 'x');
    return { logs, archive };
  }

  it('--metrics-file in a folder that does not exist: exit 2 at start, for both tools, nothing done', async () => {
    const { logs, archive } = await folders();
    const metrics = ['--metrics-file', path.join(logs, 'no-such-folder', 'logjam.prom')];
    await fs.writeFile(path.join(logs, 'app-20240105T1200Z.log'), 'a line\n');
    await fs.utimes(path.join(logs, 'app-20240105T1200Z.log'), new Date(2024, 0, 1), new Date(2024, 0, 1));
    await endsInBothFormats(
      'logjam-compress',
      ['--once', ...metrics, logs],
      /--metrics-file .*: the folder .*no-such-folder does not exist: create it/,
    );
    expect(await ls(logs)).to.include('app-20240105T1200Z.log');
    await endsInBothFormats(
      'logjam-upload',
      ['--once', ...NO_S3, ...metrics, archive, TEMPLATE],
      /--metrics-file .*: the folder .*no-such-folder does not exist: create it/,
    );
    expect(await ls(archive)).to.deep.equal([ARCHIVE]);
  });

  it('under --check, a usage or configuration error is UNKNOWN: exit 3, one line on stdout, nothing on stderr', async () => {
    const { logs } = await folders();
    for (const [binary, args] of [
      ['logjam-compress', ['--check', '--max-age', '2x', logs]],
      ['logjam-compress', ['--check', '--bogus', logs]],
      ['logjam-upload', ['--check', path.join(logs, 'missing', 'archive'), TEMPLATE]],
      ['logjam-upload', ['--check', path.join(logs, 'archive'), 's3://logs/no-fields']],
      // Every option is checked as the command line is read, those --check does not use too.
      ['logjam-upload', ['--check', '--sse', 'aes', path.join(logs, 'archive'), TEMPLATE]],
    ] as const) {
      const result = await runBin(binary, [...args]);
      expect(result.code, `${args.join(' ')}: ${result.stdout}${result.stderr}`).to.equal(3);
      expect(result.stderr).to.equal('');
      expect(result.stdout).to.match(/^UNKNOWN: \S.*\n$/);
    }
  });

  describe('as a user who cannot write there (--user nobody)', () => {
    before(function () {
      if (!canDropPrivileges()) {
        console.log('    (skipped: needs root, setpriv and a repository nobody can read)');
        this.skip();
      }
    });

    it('logjam-upload: an ARCHIVE_DIR it cannot write is named with the fix, exit 2, before any request', async () => {
      const { archive } = await folders();
      await endsInBothFormats(
        'logjam-upload',
        ['--once', '--user', 'nobody', ...NO_S3, archive, TEMPLATE],
        /archive is not writable by this user \(uid \d+\).*its lock.*: run logjam-upload as the folder's owner/,
      );
      expect(await ls(archive)).to.deep.equal([ARCHIVE]);
    });

    it('logjam-upload: an .uploaded/ it cannot write is named with the fix, exit 2', async () => {
      const { archive } = await folders();
      const { uid, gid } = nobodyIds();
      await fs.chown(archive, uid, gid);
      await fs.mkdir(path.join(archive, '.uploaded'), { mode: 0o755 });
      await endsInBothFormats(
        'logjam-upload',
        ['--once', '--user', 'nobody', ...NO_S3, archive, TEMPLATE],
        /archive\/\.uploaded is not writable by this user .*the marker of each uploaded file/,
      );
    });

    it("logjam-upload: a lock file it cannot open is named by its path (not the descriptor's), in words, exit 2", async () => {
      const { archive } = await folders();
      const { uid, gid } = nobodyIds();
      await fs.chown(archive, uid, gid);
      await fs.writeFile(path.join(archive, '.logjam-upload.lock'), '1\n', { mode: 0o600 });
      await endsInBothFormats(
        'logjam-upload',
        ['--once', '--user', 'nobody', ...NO_S3, archive, TEMPLATE],
        new RegExp(`cannot open ${archive}/\\.logjam-upload\\.lock: permission denied: give this user access`),
      );
    });

    describe('with a store', () => {
      const servers = useS3AndImds({ buckets: ['logs'] });

      it('logjam-upload: .uploaded/ made unwritable during a pass (its PUT held at the proxy): the file is said to be in S3 but not marked, in words, not as an S3 error', async () => {
        const { archive } = await folders();
        const { uid, gid } = nobodyIds();
        await fs.chown(archive, uid, gid);
        await fs.chown(path.join(archive, ARCHIVE), uid, gid);
        let release = () => {};
        const held = new Promise<void>((resolve) => (release = resolve));
        const proxy = await startFaultProxy({
          target: servers.s3.endpoint,
          gate: (req) =>
            req.method === 'PUT' && (req.url ?? '').split('?')[0]!.endsWith(`/${ARCHIVE}`) ? held : Promise.resolve(),
        });
        try {
          const child = startBin(
            'logjam-upload',
            ['--once', '--user', 'nobody', '--endpoint-url', proxy.endpoint, '--force-path-style', archive, MARKED],
            { cleanEnv: true, env: imdsEnv(servers.imds.endpoint, await tmpDir()) },
          );
          await waitFor(
            () => proxy.requests.some((r) => r.method === 'PUT' && r.url.split('?')[0]!.endsWith(`/${ARCHIVE}`)),
            {
              what: "the archive's PUT",
            },
          );
          await fs.chown(path.join(archive, '.uploaded'), 0, 0);
          release();
          const result = await waitExit(child, 30_000);
          expect(result.code, result.stderr).to.equal(1);
          const line = result.stderr.split('\n').find((l) => / ERROR uploaded, but not marked /.test(l));
          expect(line, result.stderr).to.match(
            new RegExp(
              `error="in S3 as s3://logs/m/app/2024/01/05/${ARCHIVE.replace(/\./g, '\\.')}, but cannot write its marker in ${archive}/\\.uploaded/? \\(permission denied\\): make .* writable by this user`,
            ),
          );
          expect(line).not.to.match(/error="Error |EACCES/);
        } finally {
          release();
          await proxy.close();
        }
      });

      it('logjam-upload service: .uploaded/ made unwritable while it runs: its next pass says so in one line, with the fix, uploads nothing, and the service goes on', async () => {
        const { archive } = await folders();
        const { uid, gid } = nobodyIds();
        await fs.chown(archive, uid, gid);
        await fs.chown(path.join(archive, ARCHIVE), uid, gid);
        const args = ['--user', 'nobody', '--interval', '3600', '--endpoint-url', servers.s3.endpoint];
        const child = startBin('logjam-upload', [...args, '--force-path-style', archive, MARKED], {
          cleanEnv: true,
          env: imdsEnv(servers.imds.endpoint, await tmpDir()),
        });
        try {
          await waitFor(
            async () => (await ls(path.join(archive, '.uploaded')).catch((): string[] => [])).includes(ARCHIVE),
            { what: 'the first marker' },
          );
          await fs.chown(path.join(archive, '.uploaded'), 0, 0);
          const late = `app-${compactStamp(Date.UTC(2024, 0, 5, 14))}.log.gz`;
          await fs.writeFile(path.join(archive, late), 'late\n');
          await fs.chown(path.join(archive, late), uid, gid);
          const said = new RegExp(
            ` CRITICAL ${archive}/\\.uploaded is not writable by this user \\(uid ${uid}\\).*: run logjam-upload as the folder's owner \\(--user OWNER\\), or give this user write access exit=2`,
          );
          await waitFor(() => said.test(child.output().stderr), { what: 'the line saying what to fix' });
          expect(await servers.s3.head('logs', `m/app/2024/01/05/${late}`), 'the late archive, not uploaded').to.equal(
            null,
          );
          expect(child.exitCode, child.output().stderr).to.equal(null);
        } finally {
          child.kill('SIGTERM');
          await waitExit(child, 20_000);
        }
      });
    });

    it('logjam-compress: a LOG_DIR it cannot write is named with the fix, exit 2', async () => {
      const { logs } = await folders();
      await endsInBothFormats(
        'logjam-compress',
        ['--once', '--user', 'nobody', logs],
        /LOG_DIR .*logs is not readable and writable by this user: run logjam-compress as the user that owns the logs/,
      );
    });

    it('logjam-compress: --metrics-file in a folder it cannot write: exit 2 at start', async () => {
      const { logs } = await folders();
      const { uid, gid } = nobodyIds();
      await fs.chown(logs, uid, gid);
      await fs.mkdir(path.join(logs, '..', 'metrics'), { mode: 0o755 });
      const metrics = path.join(logs, '..', 'metrics', 'c.prom');
      await endsInBothFormats(
        'logjam-compress',
        ['--once', '--user', 'nobody', '--metrics-file', metrics, logs],
        /metrics is not writable by this user .*the metrics file/,
      );
    });
  });

  it('logjam-compress service with no directory left to work in: the errors, then the one critical line, exit 2', async () => {
    const { logs } = await folders();
    await fs.rm(path.join(logs, 'archive'), { recursive: true });
    await fs.symlink(await tmpDir(), path.join(logs, 'archive'));
    const result = await runBin('logjam-compress', ['--log-format', 'json', logs], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).to.equal(2);
    const records = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((r) => r.level)).to.deep.equal(['error', 'critical']);
    expect(records[1]).to.include({
      exit: 2,
      msg: 'no LOG_DIR left to work in: 1 configuration error said above; fix it and start logjam-compress again',
    });
  });

  it("logjam-compress: the summary of a pass that exits 2 counts the directory's configuration error", async () => {
    const { logs } = await folders();
    const other = await tmpDir();
    await fs.rm(path.join(logs, 'archive'), { recursive: true });
    await fs.symlink(other, path.join(logs, 'archive'));
    const result = await runBin('logjam-compress', ['--once', '--log-format', 'json', logs]);
    expect(result.code, result.stderr).to.equal(2);
    const summary = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((record) => record.msg === 'pass done');
    expect(summary, result.stderr).to.include({ configErrors: 1 });
  });
});
