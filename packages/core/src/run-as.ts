// --user USER[:GROUP]: root does the work as that user, as su / runuser do.
// Root cannot give up its rights for part of a process and take them back, and
// Node has no openat(): so the whole run is handed to a child process, the
// same binary with the same arguments. libuv's own uid/gid drop would clear
// the supplementary groups (setgroups(0)), so the child starts as root and,
// before anything else, becomes the user itself: initgroups (the user's
// supplementary groups kept, as su and cron keep them), setgid, setuid. Only
// the parent stays root, and it does nothing but wait for the child and pass
// SIGTERM / SIGINT on; every file is opened, written and deleted with the
// user's rights alone. The child's environment is reduced to what it needs
// (no AWS_* for logjam-compress), and HOME stays root's, so that the user's
// own dotfiles (~/.aws/config and its endpoint_url) are never read.
import { execFile, spawn } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { UsageError } from './errors.js';
import { selfCommand } from './self-command.js';

export interface UserSpec {
  user: string;
  group?: string | undefined;
}

export interface Identity {
  /** The name given (or the number). */
  name: string;
  uid: number;
  gid: number;
  /** The user's home directory, when known (not the child's HOME: that stays root's). */
  home?: string | undefined;
}

/** `USER`, `USER:GROUP`, names or numbers. Pure. */
export function parseUserSpec(text: string): UserSpec {
  const m = /^([^:\s]+)(?::([^:\s]+))?$/.exec(text);
  if (!m) throw new UsageError(`--user takes USER or USER:GROUP (names or numbers), not '${text}'`);
  return { user: m[1]!, group: m[2] };
}

const run = promisify(execFile);

/** getent's line for `key` in `database` (passwd or group), split at colons; null when there is none. */
async function getent(database: 'passwd' | 'group', key: string): Promise<string[] | null> {
  try {
    const { stdout } = await run('getent', [database, key], { encoding: 'utf8' });
    const line = stdout.split('\n')[0];
    return line ? line.split(':') : null;
  } catch (error) {
    // getent exits 2 for a key it does not know.
    if ((error as { code?: unknown }).code === 2) return null;
    throw new UsageError(`cannot look up ${database} entry '${key}' with getent: ${(error as Error).message}`);
  }
}

/** The uid, gid and home of a USER[:GROUP] spec, from the system's user database (getent: files, LDAP...). */
export async function resolveUser(spec: UserSpec): Promise<Identity> {
  const entry = await getent('passwd', spec.user);
  let uid: number;
  let gid: number;
  if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  } else if (/^\d+$/.test(spec.user)) {
    uid = Number(spec.user);
    gid = uid;
  } else {
    throw new UsageError(`--user: no such user '${spec.user}'`);
  }
  if (spec.group !== undefined) {
    const group = await getent('group', spec.group);
    if (group) gid = Number(group[2]);
    else if (/^\d+$/.test(spec.group)) gid = Number(spec.group);
    else throw new UsageError(`--user: no such group '${spec.group}'`);
  }
  return { name: entry?.[0] || spec.user, uid, gid, home: entry?.[5] || undefined };
}

/** The name of user `uid` in the system's user database, or `uid N` when it has none. */
export async function userName(uid: number): Promise<string> {
  const entry = await getent('passwd', String(uid)).catch(() => null);
  return entry?.[0] || `uid ${uid}`;
}

/** Whether this process already is `who` (then there is nothing to drop). */
export function isCurrently(who: Identity): boolean {
  return process.geteuid?.() === who.uid && process.getegid?.() === who.gid;
}

/** Set by the parent for the child it starts as root: `UID:GID:NAME`, whom to become before anything else. */
const BECOME = 'LOGJAM_BECOME_USER';

/** Variables every child keeps: the system's, logjam's own, Sentry's and Node's; the rest (a cron job's or a shell's) is left out. */
const COMMON_ENV =
  /^(PATH|HOME|TZ|LANG|LANGUAGE|TERM|TMPDIR|NO_COLOR|FORCE_COLOR|UV_THREADPOOL_SIZE|LC_\w+|LOGJAM_\w+|SENTRY_\w+|NODE_\w+)$/;

/** The variables of `env` that a child matching `keep` (besides COMMON_ENV) is given, with USER and LOGNAME the user's, as su sets them. Pure. */
export function childEnv(env: NodeJS.ProcessEnv, who: Identity, keep: RegExp | undefined): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (COMMON_ENV.test(name) || keep?.test(name)) out[name] = value;
  return { ...out, USER: who.name, LOGNAME: who.name, [BECOME]: `${who.uid}:${who.gid}:${who.name}` };
}

/** In the child started as root: become the user as su does (initgroups, setgid, setuid). */
function becomeUser(spec: string): void {
  const [uid, gid, ...name] = spec.split(':');
  const user = name.join(':');
  try {
    // In Node since 0.9 (POSIX), missing from @types/node.
    (process as unknown as { initgroups(user: string, extraGroup: number): void }).initgroups(user, Number(gid));
  } catch {
    // A bare uid with no entry in the user database has no groups of its own.
    process.setgroups!([Number(gid)]);
  }
  process.setgid!(Number(gid));
  process.setuid!(Number(uid));
}

/**
 * Runs this program again as `who` and resolves with its exit code (128 + the
 * signal's number if it died of a signal). stdio is shared; the environment is
 * reduced (childEnv), HOME stays root's.
 */
export function runAsChild(who: Identity, keepEnv?: RegExp): Promise<number> {
  const { file, args } = selfCommand();
  const child = spawn(file, args, { env: childEnv(process.env, who, keepEnv), stdio: 'inherit' });
  const pass = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGTERM', pass);
  process.on('SIGINT', pass);
  return new Promise<number>((resolve, reject) => {
    child.on('error', (error) => {
      done();
      reject(
        new UsageError(`--user ${who.name}: cannot start logjam as uid ${who.uid} gid ${who.gid}: ${error.message}`),
      );
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? (os.constants.signals[signal] ?? 0) : 0));
    });
  });
  function done() {
    process.off('SIGTERM', pass);
    process.off('SIGINT', pass);
  }
}

/**
 * --user's whole effect: null when this process already is that user (it
 * goes on and does the work), else the exit code of the child that did the
 * work as that user. Only root may become someone else.
 */
export async function handOverToUser(text: string, keepEnv?: RegExp): Promise<number | null> {
  const become = process.env[BECOME];
  delete process.env[BECOME];
  if (become !== undefined && process.geteuid?.() === 0) {
    becomeUser(become);
    return null;
  }
  const who = await resolveUser(parseUserSpec(text));
  if (isCurrently(who)) return null;
  if (process.geteuid?.() !== 0) {
    throw new UsageError(
      `--user ${text} needs root to become uid ${who.uid} gid ${who.gid} (this process is uid ${process.geteuid?.()}); run it as that user, or without --user`,
    );
  }
  return runAsChild(who, keepEnv);
}
