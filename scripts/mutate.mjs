#!/usr/bin/env node
// npm run mutate: breaks each guarantee in the one place it rests on, rebuilds,
// runs the tests that should notice, and reports caught / not caught. Each
// mutation is reverted before the next; the tree is rebuilt clean at the end.
//
// A short list of targeted patches rather than StrykerJS: Stryker mutates
// every operator of every file and reruns the suite for each (thousands of
// mutants, hours on two cores, most of them in log messages), and a surviving
// mutant there says little; here each patch is one named guarantee of the
// README, so "not caught" means exactly one promise is untested.
//
// Each mutation is (a search string, its replacement), found anywhere under
// packages/*/src, so it survives files being split or moved; a search string
// must occur exactly once.
//
//   npm run mutate                 every mutation
//   npm run mutate -- NAME...      only those (names as in the table)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @typedef {{ name: string, what: string, patches: Array<[string, string]>, tests: string[], grep?: string }} Mutation
 * name, what breaks, the patches (search, replacement), and the tests that must catch it (files, and a mocha --grep).
 */

/** @type {Mutation[]} */
const MUTATIONS = [
  {
    name: 'verify skipped',
    what: 'logjam-compress publishes an archive without decompressing it to check it',
    patches: [['  if (options.verify) {', '  if (options.verify && Number.isNaN(0)) {']],
    tests: ['packages/logjam-compress/test/compress.test.ts'],
  },
  {
    name: 'delete before publish',
    what: 'the source is deleted before its archive is linked into place',
    patches: [
      [
        '    await assertUnchanged(onDisk, src, before);\n\n    if (!held.pinned) await held.verify();\n    const slot = await publish(',
        '    await fs.unlink(onDisk);\n\n    if (!held.pinned) await held.verify();\n    const slot = await publish(',
      ],
      ['    await assertUnchanged(onDisk, src, before);\n    await held.verify();\n    await fs.unlink(onDisk);\n    await fsyncDir(logDir);', '    await held.verify();\n    await fsyncDir(logDir);'],
    ],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'logjam-compress one file',
  },
  {
    name: 'fsync removed',
    what: 'the archive is linked into place without being fsynced first',
    patches: [
      ['    await out.sync();\n    // The archive keeps', '    // The archive keeps'],
      ['    await out.sync();\n  } finally {\n    await out.close();', '  } finally {\n    await out.close();'],
    ],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'durable order',
  },
  {
    name: 'archive/ fsync removed',
    what: 'the source is deleted before the link of its archive is durable',
    patches: [['    await fsyncDir(archiveDir);\n    const archive = path.join(ARCHIVE_DIR, slot.name);', '    const archive = path.join(ARCHIVE_DIR, slot.name);']],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'durable order',
  },
  {
    name: 'archive overwritten',
    what: 'logjam-compress publishes with rename(), replacing an existing archive of other content',
    patches: [['await fs.link(tmp, namePath(archiveDir, slot.name));', 'await fs.rename(tmp, namePath(archiveDir, slot.name));']],
    tests: ['packages/logjam-compress/test/cli.test.ts'],
    grep: 'published under its name meanwhile',
  },
  {
    name: 'own archive not recognised',
    what: 'logjam-compress, rerun after a crash between publishing and deleting, archives the file again',
    patches: [
      [
        '    return await equalStreams(decompressed[Symbol.asyncIterator](), original, options.signal);',
        '    return (await equalStreams(decompressed[Symbol.asyncIterator](), original, options.signal)) && Number.isNaN(0);',
      ],
    ],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'logjam-compress one file',
  },
  {
    name: 'marker before confirm',
    what: 'the marker is written before S3 confirmed the upload',
    patches: [['    const result = await put(ctx, pass, bucket, key, local);', '    await mark(ctx, pass, log.name, uri);\n    const result = await put(ctx, pass, bucket, key, local);']],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'single PUT: every request',
  },
  {
    name: 'If-None-Match dropped',
    what: 'PUTs are unconditional: two writers of one key overwrite each other',
    patches: [["    ...(conditional ? { IfNoneMatch: '*' } : {}),", '    ...(conditional ? { IfNoneMatch: undefined } : {}),']],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'every HEAD 403',
  },
  {
    name: 'HEAD after 412 skipped',
    what: 'a 412 (key taken) is taken as a different object, without asking whether it is this file',
    patches: [['      const again = await probe(ctx, bucket, key, local);', "      const again = (await Promise.resolve('different')) as ProbeState | 'claimed';"]],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'a lost response to the PUT is',
  },
  {
    name: 'lost-response HEAD removed',
    what: "a PUT whose every answer was lost fails, though the object landed (put()'s own HEAD)",
    patches: [["        const state = await probe(ctx, bucket, key, local).catch(() => 'unknown' as const);", "        const state = (await Promise.resolve('unknown')) as ProbeState;"]],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'lost response on every attempt',
  },
  {
    name: 'size-only comparison',
    what: 'an object of the same size is taken for this file, whatever its bytes',
    patches: [
      [
        '  if (recorded) return recorded.toLowerCase() === local.md5;\n  return plainEtag(head.ETag) === local.md5;',
        '  return recorded !== undefined || head.ETag !== undefined || local.md5 !== undefined;',
      ],
      ["    return entry.size === local.size && entry.etag === local.md5 ? 'same' : null;", "    return entry.size === local.size ? 'same' : null;"],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'never overwrites a different object',
  },
  {
    name: 'own object not recognised',
    what: 'an object that is this very file is taken for a different one: uploaded again at a conflict key',
    patches: [
      ['  if (head.ContentLength !== local.size) return false;', '  if (head.ContentLength !== local.size || local.size >= 0) return false;'],
      ["    return entry.size === local.size && entry.etag === local.md5 ? 'same' : null;", "    return entry.size === local.size && entry.etag === local.md5 && Number.isNaN(0) ? 'same' : null;"],
    ],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'single PUT: every request',
  },
  {
    name: 'grammar widened',
    what: "U+2028 / U+2029 (line separators) allowed in a name's suffix",
    patches: [['(?:-([^.\\n\\r\\u2028\\u2029]+))?', '(?:-([^.\\n\\r]+))?']],
    tests: ['test/reliability/fuzz.test.ts'],
  },
  {
    name: 'ignore-list narrowed',
    what: '`~` backup files no longer ignored',
    patches: [["  return name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('~');", "  return name.startsWith('.') || name.endsWith('.tmp');"]],
    tests: ['test/reliability/fuzz.test.ts'],
  },
  // issue 23: root over folders that others own
  {
    name: 'owner not checked',
    what: 'as root, a folder another user owns is accepted (only its mode is checked)',
    patches: [['  if (stats.uid !== 0) return { owner: stats.uid };', '  if (stats.uid !== 0 && Number.isNaN(0)) return { owner: stats.uid };']],
    tests: ['test/security-owners.test.ts'],
    grep: 'ownership, not only mode',
  },
  {
    name: 'folders above not checked',
    what: 'as root, the folders above LOG_DIR are not checked: one another user owns or can write is accepted',
    patches: [['      if (rule) await checkFolder(target, walked,', '      if (rule && index === steps.length - 1) await checkFolder(target, walked,']],
    tests: ['test/security-owners.test.ts'],
    grep: 'below a folder',
  },
  {
    name: 'path resolved, not walked',
    what: 'a link in the path of LOG_DIR or ARCHIVE_DIR is followed',
    patches: [['const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;', 'const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY;']],
    tests: ['test/security-owners.test.ts'],
    grep: 'walked, not resolved|through a link',
  },
  {
    name: 'LOG_DIR used by path',
    what: 'logjam-compress works in LOG_DIR by its name after walking it, not through the descriptor it holds',
    patches: [['      safe.push(logDir.via);', '      safe.push(dir);']],
    tests: ['test/security-owners.test.ts'],
    grep: 'swaps LOG_DIR',
  },
  {
    name: "archive not given the source's owner",
    what: "as root, an archive keeps the group archive/ gives it (setgid) rather than the source's owner, group and mode",
    patches: [['    await takeSourceOwner(tmp, before);\n', '']],
    tests: ['test/security-owners.test.ts'],
    grep: 'root:adm 0640',
  },
  {
    name: 'hard-linked log read as root',
    what: 'as root, logjam-compress reads a log that has another name (ln /etc/shadow)',
    patches: [['  if (stats.nlink <= 1 || process.geteuid?.() !== 0) return;', '  return;']],
    tests: ['test/security-owners.test.ts'],
    grep: 'hard link',
  },
  {
    name: 'hard-linked archive uploaded as root',
    what: 'as root, logjam-upload reads an archive that has another name',
    patches: [['    if (stat.nlink > 1 && process.geteuid?.() === 0) {', '    if (stat.nlink > 1 && Number.isNaN(0)) {']],
    tests: ['test/security-owners.test.ts'],
    grep: 'hard link',
  },
  {
    name: 'lock judged by pid, not held by the kernel',
    what: 'a process that names itself logjam-compress, its pid in the lock file, keeps the folder locked',
    patches: [['  if (!(await flockRuns())) return tryPidLock(file, options);', '  if (!Number.isNaN(0) || !(await flockRuns())) return tryPidLock(file, options);']],
    tests: ['test/security-attacker.test.ts'],
    grep: 'held by the kernel',
  },
  {
    name: 'metrics file read blocking',
    what: 'the previous metrics file is opened without O_NONBLOCK: a FIFO there hangs the run (and its lock)',
    patches: [
      [
        "    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);\n  } catch (error) {\n    const code = errorCode(error);\n    if (code === 'ENOENT' || code === 'ELOOP')",
        "    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW);\n  } catch (error) {\n    const code = errorCode(error);\n    if (code === 'ENOENT' || code === 'ELOOP')",
      ],
    ],
    tests: ['test/security-attacker.test.ts'],
    grep: 'metrics-file',
  },
  {
    name: '--user drops supplementary groups',
    what: "the --user child keeps only the user's primary group (setgroups), not its supplementary groups (initgroups)",
    patches: [['    (process as unknown as { initgroups(user: string, extraGroup: number): void }).initgroups(user, Number(gid));', '    process.setgroups!([Number(gid)]);']],
    tests: ['test/security-attacker.test.ts'],
    grep: 'supplementary groups',
  },
  {
    name: "--user child gets the user's HOME",
    what: "the --user child's HOME is the user's: their ~/.aws/config (endpoint_url) is read by root's upload",
    patches: [['  return { ...out, USER: who.name,', '  return { ...out, ...(who.home ? { HOME: who.home } : {}), USER: who.name,']],
    tests: ['test/security-owners.test.ts'],
    grep: 'aws/config is never read',
  },
  {
    name: '--user child gets the whole environment',
    what: "the --user child is given root's whole environment (AWS secrets for logjam-compress, anything of cron's)",
    patches: [['if (COMMON_ENV.test(name) || keep?.test(name)) out[name] = value;', 'if (name) out[name] = value;']],
    tests: ['test/security-attacker.test.ts'],
    grep: 'environment is reduced',
  },
  {
    name: 'backlog stats through links',
    what: "logjam-upload's --check and backlog gauges stat() a link named like an archive: its target's size and mtime disclosed",
    patches: [['      const stat = await fs.lstat(onDisk);', '      const stat = await fs.stat(onDisk);']],
    tests: ['test/security-attacker.test.ts'],
    grep: 'does not disclose',
  },
  {
    name: 'any entry is a marker',
    what: 'a folder or a link in .uploaded/ counts as a marker',
    patches: [['.filter((entry) => entry.isFile() && !entry.name.startsWith', '.filter((entry) => !entry.name.startsWith']],
    tests: ['test/security-attacker.test.ts'],
    grep: 'only a regular file',
  },
  {
    name: 'control characters raw in text logs',
    what: 'ESC and other control characters of a file name (a field of a text log line) reach the log raw',
    patches: [['const NEEDS_QUOTES = /[\\s"=\\u0000-\\u001f\\u007f]/;', 'const NEEDS_QUOTES = /[\\s"=]/;']],
    tests: ['test/security-attacker.test.ts'],
    grep: 'control characters',
  },
];

function sourceFiles() {
  /** @type {string[]} */
  const files = [];
  const walk = (/** @type {string} */ dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts')) files.push(file);
    }
  };
  for (const pkg of readdirSync(path.join(root, 'packages'))) walk(path.join(root, 'packages', pkg, 'src'));
  return files;
}

/**
 * Applies a mutation's patches; returns the files' original texts, to put back.
 * @param {Mutation} mutation
 */
function apply(mutation) {
  /** @type {Map<string, string>} */
  const originals = new Map();
  const text = (/** @type {string} */ file) => originals.get(file) ?? readFileSync(file, 'utf8');
  /** @type {Map<string, string>} */
  const current = new Map();
  for (const [search, replacement] of mutation.patches) {
    const hits = sourceFiles().flatMap((file) => {
      const content = current.get(file) ?? text(file);
      const count = content.split(search).length - 1;
      return Array.from({ length: count }, () => file);
    });
    if (hits.length !== 1) throw new Error(`"${mutation.name}": the search string occurs ${hits.length} times under packages/*/src (must be once): ${JSON.stringify(search)}`);
    const file = /** @type {string} */ (hits[0]);
    if (!originals.has(file)) originals.set(file, readFileSync(file, 'utf8'));
    current.set(
      file,
      (current.get(file) ?? text(file)).replace(search, () => replacement),
    );
  }
  for (const [file, content] of current) writeFileSync(file, content);
  return originals;
}

/** @param {string} command @param {string[]} args */
function run(command, args) {
  return spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function build() {
  const result = run('npm', ['run', 'build']);
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`);
}

const only = process.argv.slice(2);
const chosen = only.length ? MUTATIONS.filter((m) => only.includes(m.name)) : MUTATIONS;
if (only.length && chosen.length !== only.length) {
  console.error(`unknown mutation; the names are:\n${MUTATIONS.map((m) => `  ${m.name}`).join('\n')}`);
  process.exit(2);
}

const started = Date.now();
const rows = [];
try {
  for (const mutation of chosen) {
    const t0 = Date.now();
    const originals = apply(mutation);
    let outcome;
    try {
      try {
        build();
      } catch (error) {
        rows.push({ ...mutation, outcome: `BUILD FAILED (fix the mutation): ${String(error).slice(-500)}`, seconds: 0 });
        console.log(`BUILD FAILED ${mutation.name}`);
        continue;
      }
      const args = ['mocha', '--timeout', '600000', '--reporter', 'dot', ...(mutation.grep ? ['--grep', mutation.grep] : []), ...mutation.tests];
      const result = run('npx', args);
      // A run where no test ran proves nothing.
      const passing = /(\d+) passing/.exec(result.stdout)?.[1];
      const failing = /(\d+) failing/.exec(result.stdout)?.[1];
      if (result.status !== 0 && failing) outcome = `caught (${failing} failing)`;
      else if (!passing && !failing) outcome = `NO TEST RAN (${result.stdout.slice(-300)}${result.stderr.slice(-300)})`;
      else outcome = 'NOT CAUGHT';
    } finally {
      for (const [file, content] of originals) writeFileSync(file, content);
    }
    const seconds = Math.round((Date.now() - t0) / 1000);
    rows.push({ ...mutation, outcome, seconds });
    console.log(`${outcome.startsWith('caught') ? 'caught    ' : 'NOT CAUGHT'} ${mutation.name} (${seconds} s)`);
  }
} finally {
  build();
}

const total = Math.round((Date.now() - started) / 1000);
console.log(`\n| mutation | what breaks | tests | result |\n|---|---|---|---|`);
for (const row of rows) console.log(`| ${row.name} | ${row.what} | ${row.tests.map((t) => path.basename(t)).join(', ')}${row.grep ? ` (“${row.grep}”)` : ''} | ${row.outcome} |`);
console.log(`\n${rows.filter((r) => r.outcome.startsWith('caught')).length} of ${rows.length} caught, in ${Math.floor(total / 60)} min ${total % 60} s`);
process.exit(rows.every((r) => r.outcome.startsWith('caught')) ? 0 : 1);
