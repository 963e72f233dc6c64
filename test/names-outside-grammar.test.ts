// Files whose names look like hourly logs but are outside the grammar are
// left alone, as the Python tool left them, but counted and said: --check
// lists them with why, --log-level debug names each, the pass summary counts
// them. A log already gzip is compressed again (the Python tool's name), with a WARN.
import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, ls, runBin, tmpDir } from './support/index.ts';

const OUTSIDE: Record<string, RegExp> = {
  'haproxy-20261205T000000Z.log': /the stamp has seconds/,
  'haproxy-2026120500.log': /the stamp has no T and no Z/,
  'haproxy-20261205T00Z.log': /the stamp has no minutes/,
};
const OTHER = ['notes.txt', 'app-2026-12-05.log'];
const TWO_DAYS_AGO = Date.now() / 1000 - 2 * 86_400;

async function logDir(names: string[]): Promise<string> {
  const dir = await tmpDir();
  for (const name of names) {
    await fs.writeFile(path.join(dir, name), `${name}\n`);
    await fs.utimes(path.join(dir, name), TWO_DAYS_AGO, TWO_DAYS_AGO);
  }
  return dir;
}

describe('names outside the grammar (logjam-compress, built binary)', function () {
  this.timeout(60_000);
  after(cleanupTmpDirs);

  it('--check: OK, with the count on the status line and each file listed with why; other files are not named', async () => {
    const dir = await logDir([...Object.keys(OUTSIDE), ...OTHER]);
    const result = await runBin('logjam-compress', ['--check', dir]);
    expect(result.code, result.stdout).to.equal(0);
    const [status, ...rest] = result.stdout.trimEnd().split('\n');
    expect(status).to.equal(
      'OK: nothing due for compression; 3 files ignored: names outside the log file grammar | files=0 bytes=0B oldest_age=0s;7200 ignored=3',
    );
    expect(rest).to.have.length(3);
    const real = await fs.realpath(dir);
    for (const [name, reason] of Object.entries(OUTSIDE)) {
      const line = rest.find((l) => l.startsWith(`ignored: ${path.join(real, name)}: `));
      expect(line, name).to.match(reason);
    }
    expect(result.stdout).not.to.match(/notes\.txt|app-2026-12-05/);
  });

  it('a pass: each named at debug with why, counted in the summary (ignored=3), all left as they were', async () => {
    const dir = await logDir([...Object.keys(OUTSIDE), ...OTHER]);
    const result = await runBin('logjam-compress', ['--once', '--log-level', 'debug', '--log-format', 'json', dir]);
    expect(result.code, result.stderr).to.equal(0);
    const records = result.stderr
      .trim()
      .split('\n')
      .map(
        (line) => JSON.parse(line) as { level: string; msg: string; file?: string; reason?: string; ignored?: number },
      );
    const said = records.filter((r) => r.msg === 'not a log file name: left alone');
    expect(said.map((r) => path.basename(r.file!)).sort()).to.deep.equal(Object.keys(OUTSIDE).sort());
    for (const r of said) expect(r.reason, r.file).to.match(OUTSIDE[path.basename(r.file!)]!);
    expect(records.find((r) => r.msg === 'pass done')).to.include({ level: 'info', ignored: 3 });
    expect(await ls(dir)).to.deep.equal(['archive', ...Object.keys(OUTSIDE), ...OTHER].sort());
    expect(await ls(path.join(dir, 'archive'))).to.deep.equal([]);
  });

  it('a log that is already gzip: archived as NAME.gz.gz (the Python tool did the same), said at WARN', async () => {
    const dir = await logDir(['app-20240105T1300Z.log.gz']);
    const result = await runBin('logjam-compress', ['--once', dir]);
    expect(result.code, result.stderr).to.equal(0);
    expect(await ls(path.join(dir, 'archive'))).to.deep.equal(['app-20240105T1300Z.log.gz.gz']);
    expect(result.stderr).to.match(
      / WARN already gzip: compressing it again as the Python logjam did; .* file=\S+app-20240105T1300Z\.log\.gz archive=\S+app-20240105T1300Z\.log\.gz\.gz\n/,
    );
  });
});
