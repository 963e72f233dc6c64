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
  // issue 24: what the store does is learned once and remembered
  {
    name: 'profile ignored',
    what: 'logjam-upload probes the store on every run, whatever the profile says',
    patches: [['      known: freshProbe(facts, now),', '      known: undefined,']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'second run sends no probe',
  },
  {
    name: 'yes trusted blind',
    what: '--conditional-writes yes on a custom endpoint is taken without the probe that verifies it',
    patches: [["  const proven = given !== null && (endpoint === undefined || mode === 'no');", '  const proven = given !== null;']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'does not keep it',
  },
  {
    name: 'contradiction not remembered',
    what: 'a pass that found the store answering 501 to If-None-Match leaves the profile saying it honours it',
    patches: [['    if (facts && used && (used.put', '    if (facts && used && Number.isNaN(0) && (used.put']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'answers 501',
  },
  {
    name: 'profile never stale',
    what: 'a probe is trusted forever (no re-probe after a week)',
    patches: [['  return at !== undefined && now >= at && now - at < RELEARN_AFTER_MS;', '  return at !== undefined;']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'older than a week',
  },
  {
    name: 'probe key random',
    what: 'each probe writes a new key, so a killed or undeletable probe object is never removed by the next',
    patches: [['  return `${prefix}${PROBE_FOLDER}${host}-${folder}`;', '  return `${prefix}${PROBE_FOLDER}${host}-${folder}-${Math.random().toString(16).slice(2)}`;']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'killed at any request|PutObject-only',
  },
  {
    name: 'probe not deleted',
    what: "the probe's object is left in the bucket",
    patches: [['    if (written) {\n      await client.send(new s3.DeleteObjectCommand', '    if (written && Number.isNaN(0)) {\n      await client.send(new s3.DeleteObjectCommand']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'second run sends no probe',
  },
  {
    name: 'refusal nags',
    what: 'a refused DeleteObject or HeadBucket is said at WARN on every run, not once',
    patches: [['  const news = facts.refused[permission] === undefined;', '  const news = true;']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'PutObject-only',
  },
  {
    name: 'profile trusted from anyone',
    what: 'a store profile that others could write (or not a plain file of this user) is believed',
    patches: [['    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {', '    if (uid === -1) {']],
    tests: ['packages/logjam-upload/test/store-profile.test.ts'],
  },
  {
    name: 'probe trusts a landed PUT',
    what: 'the probe counts a second PUT onto its taken key that landed (If-None-Match ignored) as honoured',
    patches: [
      [
        "  return { put: answers.first === 'refused' || answers.second === 'refused', complete: answers.complete === 'refused' };",
        "  return { put: answers.first === 'refused' || answers.second !== 'unsupported', complete: answers.complete === 'refused' };",
      ],
    ],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'does not keep it|ignores If-None-Match is remembered',
  },
  {
    name: 'HeadBucket refusal re-asked',
    what: 'a HeadBucket refused on earlier runs is followed by the GET that tells why on every run (HeadBucket + N no longer holds under a PutObject-only policy)',
    patches: [["    if (refusedBefore) return 'limited';\n", '']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'PutObject-only',
  },
  {
    name: 'profile takes what was said',
    what: "the profile records the writes --conditional-writes gave the pass (put-only) instead of what the store's probe found",
    patches: [['(used.put !== this.found.put || used.complete !== this.found.complete)', '(facts.writes?.put !== this.found.put || facts.writes?.complete !== this.found.complete)']],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'honours more',
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
