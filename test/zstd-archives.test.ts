// logjam-compress --format zstd, the built binary: archives the zstd CLI reads
// back to the exact bytes, one frame, no window over 8 MiB; and on a Node
// without zstd in zlib (20, early 22), one line and exit 2, nothing done.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { cleanupTmpDirs, ls, runBin, tmpDir } from './support/index.ts';

const MB = 1024 * 1024;
const NAME = 'haproxy-20130704T0000Z-us-west-2-i-ae23fega.log';
const HOUR_AGO = Date.now() / 1000 - 3600;
const nodeHasZstd = typeof (zlib as unknown as { zstdCompress?: unknown }).zstdCompress === 'function';

function logOf(size: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i += 1) {
    const line = `10.0.${i % 251}.${(i * 7) % 253} - - [04/Jul/2013:00:00:${String(i % 60).padStart(2, '0')} +0000] "GET /item/${(i * 2654435761) % 1000003} HTTP/1.1" 200 ${1000 + ((i * 13) % 5003)}\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join(''));
}

async function logDir(content: Buffer): Promise<string> {
  const dir = await tmpDir();
  await fs.writeFile(path.join(dir, NAME), content);
  await fs.utimes(path.join(dir, NAME), HOUR_AGO, HOUR_AGO);
  return dir;
}

/** `zstd -lv`: the number of frames and the window, in bytes. */
function zstdList(file: string): { frames: number; window: number; text: string } {
  const list = spawnSync('zstd', ['-lv', file], { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  const text = list.stdout + list.stderr;
  return {
    frames: Number(/# Zstandard Frames: (\d+)/.exec(text)?.[1]),
    window: Number(/Window Size: .*\((\d+) B\)/.exec(text)?.[1]),
    text,
  };
}

describe('logjam-compress --format zstd (built binary)', function () {
  this.timeout(300_000);
  afterEach(cleanupTmpDirs);

  describe(`on a Node with zstd in zlib (22.15 / 23.8 and later)`, function () {
    before(function () {
      if (!nodeHasZstd) {
        console.log(`      skipped: Node ${process.version} has no zstd in zlib; the refusal is tested below`);
        this.skip();
      }
    });

    it('writes NAME.zst of a 12 MB log: one frame, a window within 8 MiB, that the zstd CLI decompresses to the exact bytes; no warning shown', async () => {
      const log = logOf(12 * MB);
      const dir = await logDir(log);
      const result = await runBin('logjam-compress', ['--once', '--format', 'zstd', '--jobs', '2', dir], {
        timeoutMs: 240_000,
      });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stderr, 'nothing from Node about zstd').not.to.match(/Warning/);
      expect(await ls(dir)).to.deep.equal(['archive']);
      const archive = path.join(dir, 'archive', `${NAME}.zst`);
      expect(await ls(path.join(dir, 'archive'))).to.deep.equal([`${NAME}.zst`]);
      const plain = spawnSync('zstd', ['-dc', archive], { maxBuffer: 64 * MB, timeout: 60_000, killSignal: 'SIGKILL' });
      expect(plain.status, String(plain.stderr)).to.equal(0);
      expect(plain.stdout.equals(log), 'zstd -dc gives the exact bytes').to.equal(true);
      const list = zstdList(archive);
      expect(list.frames, list.text).to.equal(1);
      expect(list.window, list.text).to.be.at.most(8 * MB);
      expect(list.text).to.match(/Check: XXH64/);
    });

    it('LOGJAM_FORMAT=zstd, at the highest level (19): still one frame, a window within 8 MiB', async () => {
      const log = logOf(MB);
      const dir = await logDir(log);
      const result = await runBin('logjam-compress', ['--once', '--level', '19', dir], {
        env: { LOGJAM_FORMAT: 'zstd' },
        timeoutMs: 240_000,
      });
      expect(result.code, result.stderr).to.equal(0);
      const list = zstdList(path.join(dir, 'archive', `${NAME}.zst`));
      expect(list.frames, list.text).to.equal(1);
      expect(list.window, list.text).to.be.at.most(8 * MB);
      expect(
        (await runBin('logjam-compress', ['--once', '--format', 'zstd', '--level', '20', dir])).code,
        '--level 20',
      ).to.equal(2);
    });
  });

  describe('on a Node without zstd in zlib (20, 22 before 22.15)', function () {
    before(function () {
      if (nodeHasZstd) {
        console.log(`      skipped: Node ${process.version} has zstd; CI runs this on Node 20`);
        this.skip();
      }
    });

    it('refuses --format zstd in one line naming the Node and the two ways to get zstd: exit 2, nothing done', async () => {
      const log = logOf(100_000);
      const dir = await logDir(log);
      for (const [args, env] of [
        [['--once', '--format', 'zstd', dir], {}],
        [['--once', dir], { LOGJAM_FORMAT: 'zstd' }],
      ] as const) {
        const result = await runBin('logjam-compress', [...args], { env });
        expect(result.code, result.stderr).to.equal(2);
        expect(result.stdout).to.equal('');
        expect(result.stderr.trim().split('\n'), result.stderr).to.have.length(1);
        expect(result.stderr)
          .to.include(`Node ${process.version}`)
          .and.include('Node 22.15 or later')
          .and.include('executable or the .deb');
        expect(await ls(dir), 'the source untouched, no archive/').to.deep.equal([NAME]);
      }
    });
  });
});
