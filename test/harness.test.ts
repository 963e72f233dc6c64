// The test harness's own promises. The root hook of test/support/children.ts,
// proven on a mocha run of its own: tests that fail or hang while their
// children run leave no process behind, the hung one fails with its name, and
// mocha exits rather than waiting on them. And s3rver, which runs inside the
// test process, survives a DELETE racing a PUT in the same folder. And the
// test files' names: one name per file, and the built binaries run only from
// the suites named so (`npm run test:unit` picks the rest by name).
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { cleanupTmpDirs, repoRoot, tmpDir, waitFor } from './support/index.ts';
import { startS3 } from './support/s3.ts';

const FIXTURE = 'test/support/fixtures/leaves-children.fixture.ts';
const MOCHA = path.join(repoRoot, 'node_modules/mocha/bin/mocha.js');

/** Whether `pid` is a live process (not gone, not a zombie waiting for its parent). */
async function alive(pid: number): Promise<boolean> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function runMocha(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; pid: number }> {
  const child = spawn(process.execPath, [MOCHA, '--config', '.mocharc.json', FIXTURE], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output, pid: child.pid! })));
}

describe('the root hook that kills what a test started', function () {
  this.timeout(60_000);
  after(cleanupTmpDirs);

  it('a test that fails, or hangs, while its child runs leaves no process behind, and mocha exits naming it', async () => {
    const pids = path.join(await tmpDir(), 'pids');
    const run = await runMocha({ LOGJAM_FIXTURE_PIDS: pids });
    expect(run.code, run.output).to.equal(2);
    expect(run.output).to.match(
      /1\) a suite whose before\(\) starts a child and never stops it\s+fails while its child runs:\s+Error: failing on purpose/,
    );
    expect(run.output).to.match(
      /2\) a suite whose before\(\) starts a child and never stops it\s+hangs while its child runs:\s+Error: Timeout of 2000ms exceeded/,
    );
    expect(run.output).to.match(
      /killed 2 process\(es\) left running by "a suite whose before\(\) starts a child and never stops it fails while its child runs"/,
    );
    const started = (await fs.readFile(pids, 'utf8')).trim().split('\n').map(Number);
    // before(): a child and its grandchild; each test: the same.
    expect(started).to.have.length(6);
    await waitFor(async () => (await Promise.all(started.map(alive))).every((live) => !live), {
      what: `the fixture's processes ${started.join(', ')} to be gone`,
      timeoutMs: 10_000,
    });
  });
});

describe('s3rver in the test process', function () {
  this.timeout(60_000);

  it("survives DELETEs racing PUTs of sibling keys in one folder (as two hosts' probes did), and stores what it was sent", async () => {
    const s3 = await startS3({ buckets: ['logs'] });
    try {
      const folder = 'f/.logjam-probe';
      const tens = (name: string) => Array.from({ length: 10 }, (_, i) => `${folder}/${name}${i}`);
      // Each round deletes the keys the last one wrote (emptying the folder) while it writes ten new ones.
      let previous: string[] = [];
      for (let round = 0; round < 30; round++) {
        const next = tens(`r${round}-`);
        await Promise.all([
          ...previous.map((key) => s3.client.send(new DeleteObjectCommand({ Bucket: 'logs', Key: key }))),
          ...next.map((key) => s3.put('logs', key, key)),
        ]);
        previous = next;
      }
      expect(await s3.keys('logs', `${folder}/`)).to.deep.equal(tens('r29-').sort());
      expect((await s3.download('logs', `${folder}/r29-9`)).toString()).to.equal(`${folder}/r29-9`);
    } finally {
      await s3.close();
    }
  });
});

/** Every test file of the tree, relative to the checkout: packages/*\/test and test/, at any depth. */
async function testFiles(): Promise<string[]> {
  const roots = [...(await fs.readdir(path.join(repoRoot, 'packages'))).map((pkg) => `packages/${pkg}/test`), 'test'];
  const found = await Promise.all(
    roots.map(async (root) =>
      (await fs.readdir(path.join(repoRoot, root), { recursive: true }).catch(() => [])).map((file) =>
        path.join(root, String(file)),
      ),
    ),
  );
  return found.flat().filter((file) => file.endsWith('.test.ts'));
}

/** What a test file is named by: `audit` for audit.test.ts and audit.integration.test.ts alike. */
const testName = (file: string) => path.basename(file).replace(/(\.integration)?\.test\.ts$/, '');

/** How a test file runs the built binaries: test/support's helpers that spawn them, or their paths. */
const RUNS_BINARIES = /\b(runBin|startBin|binaries)\b|support\/(strace|fleet)\.ts|bin\/logjam-/;

describe("the test files' names", () => {
  it('no two share a name, an integration suite and a unit test included (mutate names its tests by base name)', async () => {
    const byName = new Map<string, string[]>();
    for (const file of await testFiles()) byName.set(testName(file), [...(byName.get(testName(file)) ?? []), file]);
    const shared = [...byName.values()].filter((files) => files.length > 1);
    expect(byName.size).to.be.greaterThan(50);
    expect(shared, 'rename each after what it tests').to.deep.equal([]);
  });

  it('under packages/*/test, only *.integration.test.ts run the built binaries: npm run test:unit takes every other file', async () => {
    const units = (await testFiles()).filter(
      (file) => file.startsWith('packages/') && !file.endsWith('.integration.test.ts'),
    );
    const spawning = [];
    for (const file of units)
      if (RUNS_BINARIES.test(await fs.readFile(path.join(repoRoot, file), 'utf8'))) spawning.push(file);
    expect(units.length).to.be.greaterThan(20);
    expect(spawning, 'name each <what>.integration.test.ts').to.deep.equal([]);
  });
});

describe('npm run mutate', () => {
  it("every mutation's search string occurs exactly once in the sources and every test it names exists (--check)", () => {
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/mutate.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(result.stdout + result.stderr).to.match(/every search string occurs once/);
    expect(result.status).to.equal(0);
  });
});
