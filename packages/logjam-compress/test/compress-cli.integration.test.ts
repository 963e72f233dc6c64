// Integration tests: the built binary, run as a user runs it, on real temporary directories.
import { expect } from 'chai';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  cleanupTmpDirs,
  compactStamp,
  exists,
  ls,
  repoRoot,
  runBin,
  startBin,
  tmpDir,
  waitExit,
  waitFor,
  type RunResult,
} from '../../../test/support/index.ts';
import { holdLock } from '../../../test/support/lock-holder.ts';
import { hasStrace, NO_STRACE, startStopped } from '../../../test/support/strace.ts';

/** Old enough for the default 60 s grace period. */
const OLD = Date.now() / 1000 - 3600;

function line(i: number): string {
  return `Jan  1 00:00:00 lb1 haproxy[4242]: 10.0.${i % 256}.${(i * 7) % 256}:${40000 + (i % 20000)} [01/Jan/2024:00:00:00.${String(i % 1000).padStart(3, '0')}] www~ web/web${i % 8} 0/0/1/${i % 97}/${i % 113} 200 ${1000 + (i % 5000)} - - ---- 1/1/0/0/0 0/0 "GET /item/${i} HTTP/1.1"\n`;
}
function logText(lines: number, seed = 0): string {
  let text = '';
  for (let i = 0; i < lines; i += 1) text += line(i + seed);
  return text;
}

/** Writes a file and sets its mtime (seconds since the epoch; default: an hour ago). */
async function write(file: string, content: string | Buffer, mtime = OLD): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, content);
  await fs.utimes(file, mtime, mtime);
}

async function gunzip(file: string): Promise<Buffer> {
  return zlib.gunzipSync(await fs.readFile(file));
}

/** The stamp of the current minute: a file with it stays open for 65 minutes. */
function currentStamp(offsetMinutes = 0): string {
  return compactStamp(Math.floor(Date.now() / 60_000) * 60_000 + offsetMinutes * 60_000);
}

function expectClean(result: RunResult, code = 0): void {
  expect(result.code, result.stderr).to.equal(code);
  expect(result.stdout, 'stdout stays empty').to.equal('');
}

const compress = (args: string[]) => runBin('logjam-compress', args);

function skipWithoutStrace(test: Mocha.Context): void {
  console.log(`      ${NO_STRACE}`);
  test.skip();
}

describe('logjam-compress (built binary)', function () {
  this.timeout(60_000);
  const children: Array<ReturnType<typeof startBin>> = [];
  const holders: ChildProcess[] = [];
  /** The pid of a running process that holds the lock of `dir` as logjam-compress does (flock). */
  const holder = async (dir: string) => {
    const child = await holdLock(path.join(dir, '.logjam-compress.lock'), 'logjam-compress');
    holders.push(child);
    return child.pid;
  };

  afterEach(async () => {
    for (const child of holders.splice(0)) child.kill('SIGKILL');
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await waitExit(child).catch(() => {});
      }
    }
    await cleanupTmpDirs();
  });

  describe('closing rules', () => {
    it('compresses files superseded by a newer one or 65 minutes old, and leaves open ones', async () => {
      const dir = await tmpDir();
      const now = currentStamp();
      const soon = currentStamp(1);
      const files = {
        oldAlone: `haproxy-20240101T0000Z-i-1.log`, // closed by the clock
        superseded: `app-${now}.log`, // closed by app-${soon}.log
        newest: `app-${soon}.log`, // open
        openAlone: `web-${now}-i-1.log`, // open: nothing newer in its group
        otherGroup: `web-${now}-i-2.log`, // open: the newer file below has another suffix
        otherGroupNewer: `web-${soon}-i-3.log`,
        dashed: `db-2024-01-01T01:00Z.log`, // closed by the clock, stamp with dashes and colon
      };
      const content: Record<string, string> = {};
      let seed = 0;
      for (const name of Object.values(files)) {
        content[name] = logText(200, (seed += 1000));
        await write(path.join(dir, name), content[name]!);
      }

      const result = await compress(['--once', dir]);
      expectClean(result);

      for (const name of [files.oldAlone, files.superseded, files.dashed]) {
        expect(await exists(path.join(dir, name)), `${name} deleted`).to.equal(false);
        expect((await gunzip(path.join(dir, 'archive', `${name}.gz`))).toString(), `${name} archived intact`).to.equal(
          content[name],
        );
      }
      for (const name of [files.newest, files.openAlone, files.otherGroup, files.otherGroupNewer]) {
        expect(await exists(path.join(dir, name)), `${name} kept`).to.equal(true);
      }
      expect(await ls(path.join(dir, 'archive'))).to.have.length(3);
      expect(result.stderr).to.match(/compressed .*haproxy-20240101T0000Z-i-1\.log/);
    });

    it('logs one line per file with bytes in, bytes out, ratio and time, as JSON with --log-format json', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'app-20240101T0000Z.log'), logText(500));
      const result = await compress(['--once', '--log-format', 'json', dir]);
      expectClean(result);
      const records = result.stderr
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const done = records.find((r) => String(r.msg).startsWith('compressed'));
      expect(done).to.include({ level: 'info', bytesIn: logText(500).length });
      expect(done!.bytesOut).to.be.a('number').above(0);
      expect(done!.ratio).to.be.a('number');
      expect(done!.ms).to.be.a('number');
    });

    it('compresses many files with --jobs, empty ones included', async () => {
      const dir = await tmpDir();
      const texts: string[] = [];
      for (let h = 0; h < 10; h += 1) {
        texts.push(h === 0 ? '' : logText(300 * h, h));
        await write(path.join(dir, `app-20240101T${String(h).padStart(2, '0')}00Z.log`), texts[h]!);
      }
      expectClean(await compress(['--once', '--jobs', '3', dir]));
      expect(await ls(dir)).to.deep.equal(['archive']);
      for (let h = 0; h < 10; h += 1) {
        expect(
          (await gunzip(path.join(dir, 'archive', `app-20240101T${String(h).padStart(2, '0')}00Z.log.gz`))).toString(),
        ).to.equal(texts[h]);
      }
    });

    it('compresses every directory given', async () => {
      const a = await tmpDir();
      const b = await tmpDir();
      await write(path.join(a, 'a-20240101T0000Z.log'), 'a\n');
      await write(path.join(b, 'b-20240101T0000Z.log'), 'b\n');
      expectClean(await compress(['--once', a, b]));
      expect(await ls(path.join(a, 'archive'))).to.deep.equal(['a-20240101T0000Z.log.gz']);
      expect(await ls(path.join(b, 'archive'))).to.deep.equal(['b-20240101T0000Z.log.gz']);
    });
  });

  describe('grace period', () => {
    it('leaves a closed file modified less than --min-age ago, and takes it with --min-age 0', async () => {
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      await write(path.join(dir, name), 'still being flushed\n', Date.now() / 1000 - 5);
      const held = await compress(['--once', dir]);
      expectClean(held);
      expect(await exists(path.join(dir, name))).to.equal(true);
      expect(await exists(path.join(dir, 'archive', `${name}.gz`))).to.equal(false);
      expect(held.stderr).to.match(/modified too recently/);

      const taken = await compress(['--once', '--min-age', '0', dir]);
      expectClean(taken);
      expect(await exists(path.join(dir, name))).to.equal(false);
      expect(await exists(path.join(dir, 'archive', `${name}.gz`))).to.equal(true);
    });

    it('takes a file whose mtime is older than --min-age', async () => {
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      await write(path.join(dir, name), 'x\n', Date.now() / 1000 - 30);
      expectClean(await compress(['--once', '--min-age', '20', dir]));
      expect(await exists(path.join(dir, 'archive', `${name}.gz`))).to.equal(true);
    });
  });

  describe('compressing', () => {
    it('writes a gzip that decompresses to the source, at the level asked, keeping the mtime', async () => {
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      const text = logText(3000);
      const mtime = 1_700_000_000; // a whole second, exactly representable
      await write(path.join(dir, name), text, mtime);
      const fast = await tmpDir();
      await write(path.join(fast, name), text, mtime);

      expectClean(await compress(['--once', '--level', '9', dir]));
      expectClean(await compress(['--once', '--level', '1', '--no-verify', fast]));

      const archive = path.join(dir, 'archive', `${name}.gz`);
      expect((await gunzip(archive)).toString()).to.equal(text);
      expect((await gunzip(path.join(fast, 'archive', `${name}.gz`))).toString()).to.equal(text);
      expect((await fs.stat(archive)).mtimeMs).to.equal(mtime * 1000);
      expect((await fs.stat(archive)).size, 'level 9 is smaller than level 1').to.be.below(
        (await fs.stat(path.join(fast, 'archive', `${name}.gz`))).size,
      );
      expect(await ls(path.join(dir, 'archive')), 'no temporary file left').to.deep.equal([`${name}.gz`]);
    });

    it('keeps a file that grows while it is being compressed, and takes it on a later pass', async function () {
      if (!hasStrace) return skipWithoutStrace(this);
      const dir = await tmpDir();
      const name = 'big-20240101T0000Z.log';
      const source = path.join(dir, name);
      await write(source, logText(5000));
      const sizeBefore = (await fs.stat(source)).size;
      // Stopped at its first data write: the source read, its archive not yet written.
      const { child, resume } = await startStopped('logjam-compress', ['--once', '--jobs', '1', dir], {
        syscall: 'pwrite64',
        n: 1,
      });
      children.push(child);
      await fs.appendFile(source, 'one more line\n');
      resume();
      const result = await waitExit(child);

      expectClean(result);
      expect(await exists(source), 'the source is kept').to.equal(true);
      expect((await fs.stat(source)).size).to.equal(sizeBefore + 'one more line\n'.length);
      expect(await exists(path.join(dir, 'archive', `${name}.gz`)), 'the partial archive is discarded').to.equal(false);
      expect(await ls(path.join(dir, 'archive')), 'no temporary file left').to.deep.equal([]);
      expect(result.stderr).to.match(/changed while being compressed/);

      // A later pass, once the writer is done, takes it whole.
      const later = await compress(['--once', '--min-age', '0', '--level', '1', dir]);
      expectClean(later);
      expect(await exists(source)).to.equal(false);
      expect((await gunzip(path.join(dir, 'archive', `${name}.gz`))).length).to.equal(
        sizeBefore + 'one more line\n'.length,
      );
    });

    it('removes temporary files left by a killed run, and nothing else', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'archive', '.logjam-compress.12345.0123456789ab.tmp'), 'partial');
      await write(path.join(dir, 'archive', '.keep'), '');
      await write(path.join(dir, 'archive', 'notes.txt'), 'mine');
      const result = await compress(['--once', dir]);
      expectClean(result);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal(['.keep', 'notes.txt']);
      expect(result.stderr).to.match(/temporary file left by an interrupted run/);
    });
  });

  describe('existing archives', () => {
    it('deletes the source when the archive already holds exactly its content, even at another level, leaving the archive untouched', async () => {
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      const text = logText(2000);
      await write(path.join(dir, name), text);
      const existing = zlib.gzipSync(text, { level: 1 });
      await write(path.join(dir, 'archive', `${name}.gz`), existing, 1_600_000_000);

      const result = await compress(['--once', '--level', '9', dir]);
      expectClean(result);
      expect(await exists(path.join(dir, name))).to.equal(false);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([`${name}.gz`]);
      expect(
        (await fs.readFile(path.join(dir, 'archive', `${name}.gz`))).equals(existing),
        'archive bytes unchanged',
      ).to.equal(true);
      expect((await fs.stat(path.join(dir, 'archive', `${name}.gz`))).mtimeMs).to.equal(1_600_000_000_000);
      expect(result.stderr).to.match(/already holds exactly this file's content/);
    });

    it('archives under the duplicate-timestamp names (compact stamp) when the archive differs, never changing it', async () => {
      const dir = await tmpDir();
      const name = 'haproxy-2024-01-01T00:00Z-us-west-2.log';
      const existing = zlib.gzipSync('an older, different file\n');
      await write(path.join(dir, 'archive', `${name}.gz`), existing);

      await write(path.join(dir, name), 'first\n');
      const first = await compress(['--once', dir]);
      expectClean(first);
      expect(first.stderr).to.match(/WARN .*duplicate-timestamp/);
      await write(path.join(dir, name), 'second\n');
      expectClean(await compress(['--once', dir]));

      const dup = 'haproxy-logjam-compress-duplicate-timestamp-20240101T0000Z-us-west-2.log.gz';
      const dup01 = 'haproxy-logjam-compress-duplicate-timestamp-01-20240101T0000Z-us-west-2.log.gz';
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([`${name}.gz`, dup01, dup].sort());
      expect((await gunzip(path.join(dir, 'archive', dup))).toString()).to.equal('first\n');
      expect((await gunzip(path.join(dir, 'archive', dup01))).toString()).to.equal('second\n');
      expect((await fs.readFile(path.join(dir, 'archive', `${name}.gz`))).equals(existing)).to.equal(true);
      expect(await exists(path.join(dir, name))).to.equal(false);
    });

    it('never replaces an archive published under its name meanwhile (between its check and its link): takes the next name', async function () {
      if (!hasStrace) return skipWithoutStrace(this);
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      await write(path.join(dir, name), 'ours\n');
      // Stopped once its archive is written: the name was found free, the link not yet made.
      const { child, resume } = await startStopped('logjam-compress', ['--once', '--jobs', '1', dir], {
        syscall: 'pwrite64',
        n: 1,
      });
      children.push(child);
      // Another writer publishes the name meanwhile.
      const theirs = zlib.gzipSync('theirs\n');
      await fs.writeFile(path.join(dir, 'archive', `${name}.gz`), theirs);
      resume();
      expectClean(await waitExit(child));
      const dup = 'app-logjam-compress-duplicate-timestamp-20240101T0000Z.log.gz';
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([dup, `${name}.gz`].sort());
      expect((await fs.readFile(path.join(dir, 'archive', `${name}.gz`))).equals(theirs), 'theirs untouched').to.equal(
        true,
      );
      expect((await gunzip(path.join(dir, 'archive', dup))).toString()).to.equal('ours\n');
      expect(await exists(path.join(dir, name))).to.equal(false);
    });

    it('deletes the source when a duplicate-timestamp archive already holds its content (a run killed after publishing it)', async () => {
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      await write(path.join(dir, 'archive', `${name}.gz`), zlib.gzipSync('other\n'));
      const dup = 'app-logjam-compress-duplicate-timestamp-20240101T0000Z.log.gz';
      await write(path.join(dir, 'archive', dup), zlib.gzipSync('mine\n', { level: 9 }));
      await write(path.join(dir, name), 'mine\n');
      expectClean(await compress(['--once', dir]));
      expect(await exists(path.join(dir, name))).to.equal(false);
      expect(await ls(path.join(dir, 'archive')), 'no -01- copy').to.deep.equal([dup, `${name}.gz`].sort());
    });

    it('after 25 duplicate names, reports an error, keeps the source, exits 1, and still does the other files', async () => {
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      await write(path.join(dir, 'archive', `${name}.gz`), zlib.gzipSync('other 0\n'));
      await write(
        path.join(dir, 'archive', 'app-logjam-compress-duplicate-timestamp-20240101T0000Z.log.gz'),
        zlib.gzipSync('other\n'),
      );
      for (let i = 1; i <= 24; i += 1) {
        const nn = String(i).padStart(2, '0');
        await write(
          path.join(dir, 'archive', `app-logjam-compress-duplicate-timestamp-${nn}-20240101T0000Z.log.gz`),
          zlib.gzipSync(`other ${nn}\n`),
        );
      }
      const before = await ls(path.join(dir, 'archive'));
      expect(before).to.have.length(26);
      await write(path.join(dir, name), 'the 27th version\n');
      await write(path.join(dir, 'web-20240101T0000Z.log'), 'fine\n');

      const result = await compress(['--once', dir]);
      expectClean(result, 1);
      expect(await exists(path.join(dir, name)), 'the source is kept').to.equal(true);
      expect(await exists(path.join(dir, 'web-20240101T0000Z.log')), 'the other file is done').to.equal(false);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([...before, 'web-20240101T0000Z.log.gz'].sort());
      expect(result.stderr).to.match(/ERROR failed to compress .*app-20240101T0000Z\.log.*duplicate-timestamp/);
    });
  });

  describe('what is never touched', () => {
    it('leaves non-log names, symbolic links, directories and archive/ contents alone', async () => {
      const dir = await tmpDir();
      const outside = await tmpDir();
      await write(path.join(outside, 'target.log'), 'not mine\n');
      const untouched = [
        'notes.txt',
        'app-20240101T0000Z', // no extension
        'app-20241301T0000Z.log', // month 13
        'app-20240230T0000Z.log', // 30 February
        '-20240101T0000Z.log', // no prefix
      ];
      for (const name of untouched) await write(path.join(dir, name), 'x\n');
      await fs.mkdir(path.join(dir, 'dir-20240101T0000Z.log'));
      await fs.symlink(path.join(outside, 'target.log'), path.join(dir, 'link-20240101T0000Z.log'));
      await write(path.join(dir, 'archive', 'inner-20240101T0000Z.log'), 'already in archive\n');

      const result = await compress(['--once', '--min-age', '0', dir]);
      expectClean(result);
      expect(await ls(dir)).to.deep.equal(
        [...untouched, 'archive', 'dir-20240101T0000Z.log', 'link-20240101T0000Z.log'].sort(),
      );
      expect((await fs.lstat(path.join(dir, 'link-20240101T0000Z.log'))).isSymbolicLink()).to.equal(true);
      expect(await fs.readFile(path.join(outside, 'target.log'), 'utf8')).to.equal('not mine\n');
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal(['inner-20240101T0000Z.log']);
    });
  });

  describe('lock', () => {
    it('with --once, leaves a directory locked by a live process alone and exits 0', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'app-20240101T0000Z.log'), 'x\n');
      const pid = await holder(dir);
      const result = await compress(['--once', dir]);
      expectClean(result);
      expect(await exists(path.join(dir, 'app-20240101T0000Z.log'))).to.equal(true);
      expect(await exists(path.join(dir, 'archive'))).to.equal(false);
      expect(result.stderr).to.include(`WARN another logjam-compress (pid ${pid}) is working on ${dir}; skipped it`);
      expect(await fs.readFile(path.join(dir, '.logjam-compress.lock'), 'utf8')).to.equal(`${pid}\n`);
    });

    it('takes over a lock left by a dead process, and releases it when done', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'app-20240101T0000Z.log'), 'x\n');
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      await fs.writeFile(path.join(dir, '.logjam-compress.lock'), `${dead}\n`);
      expectClean(await compress(['--once', dir]));
      expect(await exists(path.join(dir, 'app-20240101T0000Z.log'))).to.equal(false);
      expect(await exists(path.join(dir, 'archive', 'app-20240101T0000Z.log.gz'))).to.equal(true);
      expect(await exists(path.join(dir, '.logjam-compress.lock'))).to.equal(false);
    });
  });

  describe('command line', () => {
    for (const [label, args, pattern] of [
      ['an unknown flag', ['--once', '--bogus', '.'], /--bogus/],
      ['--level 12', ['--once', '--level', '12', '.'], /--level.*from 1 to 9.*12/],
      ['--level 0', ['--once', '--level', '0', '.'], /--level/],
      ['--jobs 0', ['--once', '--jobs', '0', '.'], /--jobs/],
      ['--min-age abc', ['--once', '--min-age', 'abc', '.'], /--min-age/],
      ['no directory', ['--once'], /positional/],
    ] as const) {
      it(`exits 2 with one line on stderr for ${label}`, async () => {
        const dir = await tmpDir();
        const result = await runBin('logjam-compress', [...args], { cwd: dir });
        expectClean(result, 2);
        const lines = result.stderr.trimEnd().split('\n');
        expect(lines, result.stderr).to.have.length(1);
        expect(lines[0]).to.match(pattern);
        expect(lines[0]).to.include('--help');
        expect(await ls(dir), 'nothing done').to.deep.equal([]);
      });
    }

    it('exits 2 with one line naming a missing directory', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'app-20240101T0000Z.log'), 'x\n');
      const missing = path.join(dir, 'nope');
      const result = await compress(['--once', dir, missing]);
      expectClean(result, 2);
      expect(result.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(result.stderr)
        .to.include(missing)
        .and.match(/does not exist/);
      expect(await exists(path.join(dir, 'app-20240101T0000Z.log')), 'nothing attempted').to.equal(true);
    });

    it('exits 2 when LOG_DIR is a file', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'f'), 'x');
      const result = await compress(['--once', path.join(dir, 'f')]);
      expectClean(result, 2);
      expect(result.stderr).to.match(/not a directory/);
    });

    it('prints help and the version on stdout, exit 0', async () => {
      const help = await compress(['--help']);
      expect(help.code).to.equal(0);
      for (const flag of [
        '--once',
        '--level',
        '--min-age',
        '--jobs',
        '--interval',
        '--verify',
        '--log-level',
        '--log-format',
        'LOG_DIR',
      ]) {
        expect(help.stdout).to.include(flag);
      }
      const version = await compress(['--version']);
      expect(version.code).to.equal(0);
      const pkg = JSON.parse(
        await fs.readFile(path.join(repoRoot, 'packages/logjam-compress/package.json'), 'utf8'),
      ) as { version: string };
      expect(version.stdout.trim()).to.equal(pkg.version);
    });
  });

  describe('service mode', () => {
    it('compresses a file when a newer one arrives, and exits 0 on SIGTERM', async () => {
      const dir = await tmpDir();
      const first = `app-${currentStamp()}.log`;
      const second = `app-${currentStamp(1)}.log`;
      await write(path.join(dir, first), 'first hour\n');
      const child = startBin('logjam-compress', ['--min-age', '0', '--interval', '3600', '--log-level', 'debug', dir]);
      children.push(child);
      await waitFor(() => child.output().stderr.includes('pass done'), { what: 'the first pass' });
      expect(await exists(path.join(dir, first)), 'still open').to.equal(true);
      expect(await fs.readFile(path.join(dir, '.logjam-compress.lock'), 'utf8')).to.equal(`${child.pid}\n`);

      await write(path.join(dir, second), 'next\n');
      // The archive is published (and fsynced) before the source is deleted: wait for both.
      await waitFor(
        async () => (await exists(path.join(dir, 'archive', `${first}.gz`))) && !(await exists(path.join(dir, first))),
        {
          timeoutMs: 10_000,
          what: 'the archive, then the source deleted',
        },
      );
      expect(await exists(path.join(dir, second))).to.equal(true);

      child.kill('SIGTERM');
      const result = await waitExit(child);
      expectClean(result, 0);
      expect(await exists(path.join(dir, '.logjam-compress.lock')), 'lock released').to.equal(false);
    });

    it('wakes up when a held file becomes due, without any new file or rescan', async () => {
      const dir = await tmpDir();
      const name = 'app-20240101T0000Z.log';
      // Closed, but modified just now: due when its 2-second grace period ends.
      await write(path.join(dir, name), 'x\n', Date.now() / 1000);
      const child = startBin('logjam-compress', ['--min-age', '2', '--interval', '3600', dir]);
      children.push(child);
      await waitFor(() => exists(path.join(dir, 'archive', `${name}.gz`)), { timeoutMs: 15_000, what: 'the archive' });
      child.kill('SIGTERM');
      expectClean(await waitExit(child), 0);
    });

    describe('SIGTERM during a compression (the service stopped by strace at a chosen call, then signalled)', () => {
      async function stoppedAt(syscall: string) {
        const dir = await tmpDir();
        const name = 'big-20240101T0000Z.log';
        const source = path.join(dir, name);
        await write(source, logText(5000));
        const size = (await fs.stat(source)).size;
        const { child, pid, resume } = await startStopped('logjam-compress', ['--jobs', '1', dir], { syscall, n: 1 });
        children.push(child);
        process.kill(pid, 'SIGTERM');
        resume();
        return { dir, source, size, archive: path.join(dir, 'archive', `${name}.gz`), result: await waitExit(child) };
      }

      it('while the archive is being written: rolls it back (the source whole, no archive, no temporary file) and exits 0', async function () {
        if (!hasStrace) return skipWithoutStrace(this);
        const { dir, source, size, result } = await stoppedAt('pwrite64');
        expectClean(result, 0);
        expect((await fs.stat(source)).size).to.equal(size);
        expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
        expect(result.stderr).to.match(/rolled back/);
        expect(await exists(path.join(dir, '.logjam-compress.lock')), 'lock released').to.equal(false);
      });

      it('once the archive is linked into place: finishes (a complete archive, the source deleted) and exits 0', async function () {
        if (!hasStrace) return skipWithoutStrace(this);
        const { dir, source, size, archive, result } = await stoppedAt('link');
        expectClean(result, 0);
        expect(await exists(source)).to.equal(false);
        expect((await gunzip(archive)).length).to.equal(size);
        expect(await ls(path.join(dir, 'archive'))).to.deep.equal([path.basename(archive)]);
        expect(await exists(path.join(dir, '.logjam-compress.lock')), 'lock released').to.equal(false);
      });
    });

    it("exits 0 on SIGTERM while waiting for a lock, leaving the holder's lock and files alone", async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'app-20240101T0000Z.log'), 'x\n');
      const pid = await holder(dir);
      const child = startBin('logjam-compress', [dir]);
      children.push(child);
      await waitFor(() => child.output().stderr.includes('waiting'), { what: 'the waiting message' });
      child.kill('SIGTERM');
      expectClean(await waitExit(child), 0);
      expect(await fs.readFile(path.join(dir, '.logjam-compress.lock'), 'utf8')).to.equal(`${pid}\n`);
      expect(await ls(dir)).to.deep.equal(['.logjam-compress.lock', 'app-20240101T0000Z.log']);
    });

    it('waits for a lock held by a live process', async () => {
      const dir = await tmpDir();
      await write(path.join(dir, 'app-20240101T0000Z.log'), 'x\n');
      await holder(dir);
      const child = startBin('logjam-compress', [dir]);
      children.push(child);
      await waitFor(() => child.output().stderr.includes('waiting'), { what: 'the waiting message' });
      expect(await exists(path.join(dir, 'app-20240101T0000Z.log'))).to.equal(true);
      for (const held of holders.splice(0)) held.kill('SIGKILL');
      await waitFor(() => exists(path.join(dir, 'archive', 'app-20240101T0000Z.log.gz')), {
        what: 'the archive once the lock is free',
      });
      child.kill('SIGTERM');
      expectClean(await waitExit(child), 0);
    });
  });
});
