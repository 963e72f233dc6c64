// An unprivileged user of the test's own, for the attacks on root: made with
// useradd (with a group of the same name) and removed with userdel at the end.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { cleanupTmpDirs, tmpDir } from './index.ts';

export interface Attacker {
  name: string;
  uid: number;
  gid: number;
  /** Runs `argv` as the attacker (no supplementary groups); the caller kills it. */
  start(argv: string[]): ChildProcess;
  /** Runs `argv` as the attacker to the end; its stdout. */
  run(argv: string[]): string;
  remove(): void;
}

/** A new user `ljNNNNNN` with its own group, no login shell, and no home made (`home`: the path its entry names). */
export function makeAttacker(options: { groups?: string[]; home?: string } = {}): Attacker {
  const name = `lj${randomBytes(3).toString('hex')}`;
  const groups = options.groups ?? [];
  execFileSync('useradd', [
    '--no-create-home',
    '--user-group',
    '--shell',
    '/usr/sbin/nologin',
    ...(groups.length ? ['--groups', groups.join(',')] : []),
    ...(options.home ? ['--home-dir', options.home] : []),
    name,
  ]);
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  const uid = id('-u');
  const gid = id('-g');
  const as = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'];
  return {
    name,
    uid,
    gid,
    start: (argv) => spawn(as[0]!, [...as.slice(1), ...argv], { stdio: 'ignore' }),
    run: (argv) => execFileSync(as[0]!, [...as.slice(1), ...argv], { encoding: 'utf8' }),
    remove: () => {
      execFileSync('userdel', [name], { stdio: 'ignore' });
    },
  };
}

/** Whether users can be made here (root, with useradd and setpriv). */
export function canMakeUsers(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('sh', ['-c', 'command -v useradd && command -v userdel && command -v setpriv'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A suite's attacker, for `describe`: made in before() (the suite skips, saying
 * so, where users cannot be made), removed after it; `place()` makes a
 * root-owned 0755 folder (so that the attacker reaches it) in a fresh
 * temporary one, and temporary folders go after each test.
 */
export function useAttacker(prefix: string): { attacker: () => Attacker; place: () => Promise<string> } {
  let made: Attacker | undefined;
  before(function () {
    if (!canMakeUsers()) {
      console.log('    (skipped: these tests make a user, as root, as CI runs them)');
      this.skip();
    }
    made = makeAttacker();
  });
  after(() => made?.remove());
  afterEach(cleanupTmpDirs);
  return {
    attacker: () => made!,
    async place() {
      const root = await tmpDir(prefix);
      await fs.chmod(root, 0o755);
      return root;
    },
  };
}
