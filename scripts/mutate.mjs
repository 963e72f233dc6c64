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
//   npm run mutate -- --check      only checks that every search string occurs once and
//                                  every test file exists (no build, no test; test/harness.test.ts runs it)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @typedef {{ name: string, what: string, patches: Array<[string, string]>, tests: string[], grep?: string, in?: string[], nodeLine?: string }} Mutation
 * name, what breaks, the patches (search, replacement), and the tests that must catch it (files, and a mocha --grep);
 * `in`: the folders searched instead of packages/*\/src (the test harness's own guarantees live in test/support);
 * `nodeLine`: the Node line (of .ci/node-versions) its tests run on, for tests that skip on the machine's Node.
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
      [
        '    await assertUnchanged(onDisk, src, before);\n    await held.verify();\n    await fs.unlink(onDisk);\n    await fsyncDir(logDir);',
        '    await held.verify();\n    await fsyncDir(logDir);',
      ],
    ],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'logjam-compress one file',
  },
  {
    name: 'fsync removed',
    what: 'the archive is linked into place without being fsynced first',
    patches: [
      ['    await out.sync();\n  } finally {\n    await out.close();', '  } finally {\n    await out.close();'],
    ],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'durable order',
  },
  {
    name: 'archive/ fsync removed',
    what: 'the source is deleted before the link of its archive is durable',
    patches: [
      [
        '    await fsyncDir(archiveDir);\n    const archive = path.join(ARCHIVE_DIR, slot.name);',
        '    const archive = path.join(ARCHIVE_DIR, slot.name);',
      ],
    ],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'durable order',
  },
  {
    name: 'archive overwritten',
    what: 'logjam-compress publishes with rename(), replacing an existing archive of other content',
    patches: [
      [
        'await fs.link(tmp, namePath(archiveDir, slot.name));',
        'await fs.rename(tmp, namePath(archiveDir, slot.name));',
      ],
    ],
    tests: ['packages/logjam-compress/test/compress-cli.integration.test.ts'],
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
    patches: [
      [
        '    const result = await put(ctx, pass, bucket, key, local);',
        '    await mark(ctx, pass.markers, log.name, uri);\n    const result = await put(ctx, pass, bucket, key, local);',
      ],
    ],
    tests: ['test/reliability/crash-points.test.ts'],
    grep: 'single PUT: every request',
  },
  {
    name: 'If-None-Match dropped',
    what: 'PUTs are unconditional: two writers of one key overwrite each other',
    patches: [
      ["    ...(conditional ? { IfNoneMatch: '*' } : {}),", '    ...(conditional ? { IfNoneMatch: undefined } : {}),'],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'every HEAD 403',
  },
  {
    name: 'HEAD after 412 skipped',
    what: 'a 412 (key taken) is taken as a different object, without asking whether it is this file',
    patches: [
      [
        '  const again = await probe(ctx, bucket, key, local);',
        "  const again = (await Promise.resolve('different')) as Awaited<ReturnType<typeof probe>>;",
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'a lost response to the PUT is',
  },
  {
    name: 'lost-response HEAD removed',
    what: "a PUT whose every answer was lost fails, though the object landed (put()'s own HEAD)",
    patches: [
      [
        "        const state = await probe(ctx, bucket, key, local).catch(() => 'unknown' as const);",
        "        const state = (await Promise.resolve('unknown')) as Awaited<ReturnType<typeof probe>>;",
      ],
    ],
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
      [
        "    return entry.size === local.size && entry.etag === local.md5 ? 'same' : null;",
        "    return entry.size === local.size ? 'same' : null;",
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'never overwrites a different object',
  },
  {
    name: 'own object not recognised',
    what: 'an object that is this very file is taken for a different one: uploaded again at a conflict key',
    patches: [
      [
        '  if (head.ContentLength !== local.size) return false;',
        '  if (head.ContentLength !== local.size || local.size >= 0) return false;',
      ],
      [
        "    return entry.size === local.size && entry.etag === local.md5 ? 'same' : null;",
        "    return entry.size === local.size && entry.etag === local.md5 && Number.isNaN(0) ? 'same' : null;",
      ],
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
    patches: [
      [
        "  return name.startsWith('.') || name.endsWith('.tmp') || name.endsWith('~');",
        "  return name.startsWith('.') || name.endsWith('.tmp');",
      ],
    ],
    tests: ['test/reliability/fuzz.test.ts'],
  },
  // issue 32: egress proxies (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)
  {
    name: 'NO_PROXY ignored',
    what: 'a host NO_PROXY exempts is still sent through the proxy',
    patches: [['  return bypassesProxy(name, port, settings.noProxy) ? undefined : proxy;', '  return proxy;']],
    tests: ['test/egress-proxy.test.ts'],
    grep: 'NO_PROXY=localhost',
  },
  {
    name: 'metadata service proxied',
    what: 'the instance-metadata service is no longer exempt from the proxy (it would hand a proxy the instance credentials)',
    patches: [['  if (settings.metadataHosts.includes(name)) return undefined;\n', '']],
    tests: ['packages/logjam-upload/test/proxy.test.ts'],
    grep: 'instance-metadata',
  },
  {
    name: 'HTTPS around the proxy',
    what: 'an HTTPS endpoint is reached directly although HTTPS_PROXY names a proxy',
    patches: [
      [
        '    if (!proxy || !callback) return direct({});',
        '    if (proxy && callback) return direct({});\n    if (!proxy || !callback) return direct({});',
      ],
    ],
    tests: ['test/egress-proxy.test.ts'],
    grep: 'CONNECT tunnels',
  },
  {
    name: 'proxy password shown',
    what: "the proxy URL's password is no longer masked in logs and messages",
    patches: [
      [
        '    return `${scheme}${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`}@`;',
        '    return `${scheme}${userinfo}@`;',
      ],
    ],
    tests: ['test/egress-proxy.test.ts'],
    grep: 'HTTP_PROXY: every request',
  },
  // issue 30: one gzip member per archive
  {
    name: 'second gzip member',
    what: 'logjam-compress writes a second gzip member after the first one',
    patches: [
      [
        '    await writeAll(out, gzipTrailer(sum), offset);',
        "    await writeAll(out, Buffer.concat([gzipTrailer(sum), zlib.gzipSync('')]), offset);",
      ],
    ],
    tests: ['test/gzip-readers.test.ts'],
  },
  {
    name: 'verify accepts two members',
    what: 'verification no longer checks that the deflate stream ends where the gzip trailer begins',
    patches: [['    if (inflate.bytesWritten !== body)', '    if (inflate.bytesWritten !== body && Number.isNaN(0))']],
    tests: ['packages/logjam-compress/test/compress.test.ts'],
  },
  {
    name: 'dictionary dropped',
    what: 'blocks compressed without the 32 KiB before them (valid, larger archives)',
    patches: [['        const primer = dictionary;', '        const primer = undefined;']],
    tests: ['packages/logjam-compress/test/compress.test.ts'],
  },
  // issue 31: zstd archives (tests that run on every Node: the structure made by the zstd CLI, the options, the upload)
  {
    name: 'zstd frames not counted',
    what: 'verification of a .zst accepts more than one frame',
    patches: [['  if (walk.frames.length !== 1) return', '  if (walk.frames.length < 1) return']],
    tests: ['packages/logjam-compress/test/zstd.test.ts'],
  },
  {
    name: 'zstd checksum not required',
    what: 'verification of a .zst accepts a frame without a content checksum',
    patches: [["  if (!frame.checksum) return 'its frame has no content checksum';", '']],
    tests: ['packages/logjam-compress/test/zstd.test.ts'],
  },
  // issue 31's speed work: the verification of a .zst while it is written (its tests skip on a Node without zstd: run on Node 24)
  {
    name: 'zstd round trip not compared',
    what: "the decompression of a .zst while it is written is not compared with the source's bytes",
    patches: [
      [
        '      if (out.compare(next, 0, n, at, at + n) !== 0) {',
        '      if (out.compare(next, 0, n, at, at + n) !== 0 && Number.isNaN(0)) {',
      ],
    ],
    tests: ['packages/logjam-compress/test/zstd.test.ts'],
    nodeLine: '24',
  },
  {
    name: 'zstd read buffer freed early',
    what: "a read's buffer is read into again before the round trip has given all of its bytes back",
    patches: [
      [
        '    this.chunks.push(chunk);\n    this.releases.push(release);',
        '    this.chunks.push(chunk);\n    release?.();\n    this.releases.push(undefined);',
      ],
    ],
    tests: ['packages/logjam-compress/test/zstd.test.ts'],
    nodeLine: '24',
  },
  {
    name: 'zstd archive not read back',
    what: 'a .zst damaged on disk after it was written (truncated, a byte changed, a frame appended) is published',
    patches: [['    if (size !== written.size || crc !== written.crc) {', '    if (Number.isNaN(size + crc)) {']],
    tests: ['packages/logjam-compress/test/zstd.test.ts'],
    nodeLine: '24',
  },
  {
    name: 'zstd levels widened',
    what: 'zstd levels above 19 (windows over 8 MiB) accepted',
    patches: [['max: 19, default: 3', 'max: 22, default: 3']],
    tests: ['packages/logjam-compress/test/zstd.test.ts'],
  },
  {
    name: 'zstd Content-Type dropped',
    what: 'logjam-upload stores .zst archives without Content-Type: application/zstd',
    patches: [["{ ContentType: 'application/zstd' }", '{}']],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: '.zst archives',
  },
  // issue 26: every promise added since the first 14, each broken in its one place
  // (conditional.ts, store.ts: i24 rewrites the probe; compress.ts: i23 hardens it;
  // search strings there may need re-aiming after those merges). "RGW" marks the
  // ones only a run with LOGJAM_TEST_RGW can catch (s3rver has no ListMultipartUploads,
  // and the proxy plays If-None-Match on its Complete, so no claim is ever made there).
  {
    name: 'orphan abort by prefix',
    what: "RGW: the orphan cleanup aborts every unfinished upload whose key starts with this key (another tool's KEY.x)",
    patches: [
      [
        'uploads.filter((u) => u.Key === key && u.UploadId)',
        'uploads.filter((u) => u.Key?.startsWith(key) && u.UploadId)',
      ],
      [
        'new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId })',
        'new s3.AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId })',
      ],
    ],
    tests: ['packages/logjam-upload/test/guarantees.integration.test.ts'],
    grep: 'at KEY.x survives',
  },
  {
    name: 'probe trusts an ignored If-None-Match',
    what: 'the probe counts a second unconditional-looking PUT that succeeded as honoured: PUT-first replaces another writer (conditional.ts, i24)',
    patches: [
      [
        "  return { put: answers.first === 'refused' || answers.second === 'refused', complete: answers.complete === 'refused' };",
        "  return { put: answers.first === 'refused' || answers.second !== 'unsupported', complete: answers.complete === 'refused' };",
      ],
    ],
    tests: ['packages/logjam-upload/test/guarantees.integration.test.ts'],
    grep: 'ignores If-None-Match is found out',
  },
  {
    name: 'source followed through a link',
    what: "O_NOFOLLOW dropped on logjam-compress's open of a source (compress.ts, i23)",
    patches: [
      [
        '    return await fs.open(source, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);',
        '    return await fs.open(source, constants.O_RDONLY | constants.O_NONBLOCK);',
      ],
    ],
    tests: ['packages/logjam-compress/test/swapped-source.integration.test.ts'],
  },
  {
    name: 'archive followed through a link',
    what: "O_NOFOLLOW dropped on logjam-upload's open of an archive (local.ts)",
    patches: [
      [
        '    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);',
        '    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);',
      ],
    ],
    tests: ['test/reliability/input.test.ts'],
    grep: 'neither follows a symbolic link',
  },
  {
    name: 'streamed body followed through a link',
    what: 'O_NOFOLLOW dropped on the open of a file streamed from disk, made again for each attempt (client-steps.ts)',
    patches: [
      [
        '      const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);',
        '      const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);',
      ],
    ],
    tests: ['packages/logjam-upload/test/client-steps.test.ts'],
  },
  {
    name: '.uploaded/ permissions unchecked',
    what: 'as root, a .uploaded/ that others can write is accepted',
    patches: [
      [
        "  if (options.permissionRule) await checkPermissions([path.join(where.io, MARKER_DIR)], { binary: 'logjam-upload' });\n",
        '',
      ],
    ],
    tests: ['packages/logjam-upload/test/guarantees.integration.test.ts'],
    grep: '.uploaded/ that every user can write',
  },
  {
    name: 'pass invariant not called',
    what: 'a pass whose counts do not add up ends in a summary, not an error',
    patches: [['  checkAccounted(tally.summary);\n  tally.report(started);', '  tally.report(started);']],
    tests: ['packages/logjam-upload/test/pass-summary.test.ts'],
  },
  {
    name: 'HEAD before Complete skipped',
    what: 'RGW: where Complete ignores If-None-Match, an object written during the upload is replaced',
    patches: [
      [
        'beforeComplete: guard ? undefined : () => checkBeforeComplete(ctx, target, claim)',
        'beforeComplete: guard || Number.isFinite(0) ? undefined : () => checkBeforeComplete(ctx, target, claim)',
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'written at the key while a multipart upload runs',
  },
  {
    name: '412 on a multipart upload taken as success',
    what: "a claim (RGW) or Complete refused with 412 counts as uploaded: marked, while the key holds another's object",
    patches: [
      [
        "      if (error instanceof KeyTaken || status === 412 || code === 'PreconditionFailed') return 'exists';",
        "      if (local.parts && (status === 412 || code === 'PreconditionFailed')) return 'done';\n      if (error instanceof KeyTaken || status === 412 || code === 'PreconditionFailed') return 'exists';",
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'never overwrites, whether or not the store honours If-None-Match on Complete',
  },
  {
    name: 'orphans never aborted',
    what: "RGW: a killed run's parts stay at the store, billed",
    patches: [
      [
        '    pass.orphans += await abortOrphans(ctx, target, local.log.name);',
        '    pass.orphans += 0 * abortOrphans.length;',
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'killed by SIGKILL are aborted by the next run',
  },
  {
    name: "failed upload's claim kept",
    what: 'RGW: a multipart upload that failed leaves its empty claim object at the key',
    patches: [
      [
        '    if (claim !== undefined && !(error instanceof KeyTaken)) await releaseClaim(ctx, target, claim);',
        '    if (claim !== undefined && !(error instanceof KeyTaken) && Number.isNaN(0)) await releaseClaim(ctx, target, claim);',
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'cannot finish is aborted after its parts settle',
  },
  {
    name: 'own leftover claim not recognised',
    what: "RGW: a killed run's claim is taken for another's object: the file goes to a conflict key beside an empty object",
    patches: [
      [
        '    if (claim) {\n      local.claim = claim;',
        '    if (claim && Number.isNaN(0)) {\n      local.claim = claim;',
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'killed by SIGKILL are aborted by the next run',
  },
  {
    name: 'splay forced to 0',
    what: '--splay waits nothing: a fleet stampedes S3 together',
    patches: [['  if (splaySeconds <= 0) return 0;', '  if (splaySeconds <= 0 || splaySeconds > 0) return 0;']],
    tests: ['packages/core/test/splay.test.ts'],
  },
  {
    name: '--user ignored',
    what: 'as root with --user, the work is done as root',
    patches: [['  if (isCurrently(who)) return null;', '  if (isCurrently(who) || who.uid >= 0) return null;']],
    tests: ['test/security.test.ts'],
    grep: 'logjam-compress --user',
  },
  {
    name: '%XX lower-case',
    what: "a name's raw bytes are shown %e9, not %E9 as the Python tool and the docs show them",
    patches: [
      ['(c.charCodeAt(0) - 0xdc00).toString(16).toUpperCase()', '(c.charCodeAt(0) - 0xdc00).toString(16)'],
      ["b.toString(16).toUpperCase().padStart(2, '0')", "b.toString(16).padStart(2, '0')"],
    ],
    tests: ['packages/core/test/rawname.test.ts'],
  },
  {
    name: '{x:^N} centring',
    what: 'a centred template field leans right where Python leans left',
    patches: [['  const left = Math.floor(room / 2);', '  const left = Math.ceil(room / 2);']],
    tests: ['packages/logjam-upload/test/pyformat.test.ts'],
  },
  {
    name: 'lock taken from a live owner',
    what: 'a second instance takes the lock of a running one: two passes over one folder',
    patches: [["      if (state === 'held') return { acquired: false, heldBy: pidIn(content) };\n", '']],
    tests: ['packages/core/test/lock.test.ts'],
  },
  {
    name: 'conflict marker under the wrong name',
    what: "a file uploaded to a conflict key gets its marker under the conflict key's name: uploaded again every run",
    patches: [
      [
        '    const { durable } = await mark(ctx, pass.markers, log.name, uri);\n    const fields',
        "    const { durable } = await mark(ctx, pass.markers, n === 0 ? log.name : key.split('/').pop()!, uri);\n    const fields",
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'never overwrites a different object, even of the same size',
  },
  {
    name: 'already counted as uploaded',
    what: 'a file found already in S3 is counted (and reported, and in the metrics) as uploaded',
    patches: [
      [
        "    else if (outcome === 'already') summary.alreadyThere += 1;",
        "    else if (outcome === 'already') summary.uploaded += 1;",
      ],
    ],
    tests: ['packages/logjam-upload/test/upload.integration.test.ts'],
    grep: 'only writes the marker when the same object is already there',
  },
  {
    name: 'test children left running',
    what: 'the root hook kills nothing a test started: a failing test leaves its child, and mocha waits on it',
    in: ['test/support'],
    patches: [
      ['    report(`"${this.currentTest?.fullTitle() ?? \'?\'}"`, killDescendants(before));', '    void this;'],
    ],
    tests: ['test/harness.test.ts'],
    grep: 'root hook',
  },
  {
    name: "s3rver's folder race back",
    what: "s3rver's DELETE removes a folder again while a PUT writes into it: s3rver dies in the test process",
    in: ['test/support'],
    patches: [['  keepFolders(server);\n', '']],
    tests: ['test/harness.test.ts'],
    grep: 's3rver in the test process',
  },
  // issue 25: the upload service's first minute
  {
    name: 'changes during a pass forgotten',
    what: 'a service forgets what its watch saw during a pass, so archives that appeared while a pass connected wait for the rescan',
    patches: [
      [
        '    wakes.pending = false;\n    const result = await options.pass(stop);',
        '    const result = await options.pass(stop);\n    wakes.pending = false;',
      ],
    ],
    tests: ['test/service-startup.test.ts'],
    grep: 'pass connects',
  },
  {
    name: 'upload exits without archive/',
    what: 'the upload service exits at once when archive/ does not exist yet instead of waiting for it',
    patches: [
      [
        '  if (!options.once && !options.dryRun && !(await archiveDirAppears(options))) return EXIT_OK;',
        '  if (Number.isNaN(0)) return EXIT_OK;',
      ],
    ],
    tests: ['test/service-startup.test.ts'],
    grep: 'upload first',
  },
  {
    name: 'archive/ awaited by polling only',
    what: 'waiting for archive/ relies on the poll (the rescan interval), not on a watch of its parent',
    patches: [['        if (name?.toString() === path.basename(dir)) wake();', '        if (Number.isNaN(0)) wake();']],
    tests: ['test/service-startup.test.ts'],
    grep: 'upload first',
  },
  // issue 25: messages that end a run, --check as a Nagios plugin, quiet when idle
  {
    name: 'run-ending message not in --log-format',
    what: 'the message that ends a run ignores --log-format json',
    patches: [
      [
        "createLogger({ name: binary, level: 'critical', format: how.format })",
        "createLogger({ name: binary, level: 'critical', format: 'text' })",
      ],
    ],
    tests: ['test/operator-errors.test.ts'],
  },
  {
    name: 'metrics folder not checked at start',
    what: 'a --metrics-file whose folder is missing is an error per pass, exit 0, instead of exit 2 at start',
    patches: [
      [
        'export async function checkMetricsFile(file: string, binary: string): Promise<void> {\n',
        'export async function checkMetricsFile(file: string, binary: string): Promise<void> {\n  if (binary) return;\n',
      ],
    ],
    tests: ['test/operator-errors.test.ts'],
    grep: 'metrics-file in a folder that does not exist',
  },
  {
    name: 'check errors not UNKNOWN',
    what: 'a usage or configuration error under --check exits 2 (CRITICAL to Nagios), not 3',
    patches: [
      ['  if (options.check) return EXIT_UNKNOWN;', '  if (options.check && Number.isNaN(0)) return EXIT_UNKNOWN;'],
    ],
    tests: ['test/operator-errors.test.ts'],
    grep: 'UNKNOWN',
  },
  {
    name: 'idle upload pass at info',
    what: 'an idle logjam-upload service logs its pass summary at info on every rescan',
    patches: [
      ['    quietWhenIdle: !options.once || options.servicePass !== undefined,', '    quietWhenIdle: !options.once,'],
    ],
    tests: ['test/quiet.test.ts'],
  },
  {
    name: 'idle supervisor pass at info',
    what: 'the upload service logs a rescan that found nothing to upload at info',
    patches: [
      ['      sayPassDone(options.log.debug, emptySummary(0)', '      sayPassDone(options.log.info, emptySummary(0)'],
    ],
    tests: ['test/quiet.test.ts'],
  },
  // issue 33: a service's passes as --once children handed the service's lock (supervisor.ts, service-pass.ts)
  {
    name: 'service pass adopts any descriptor',
    what: "a run told it is a service's pass adopts whatever file its descriptor 3 is as the lock, and works beside the service",
    patches: [['    throw refused(`descriptor ${fd} is not the lock ${showPaths(file)}`);', '    void 0;']],
    tests: ['packages/logjam-upload/test/supervisor.integration.test.ts'],
    grep: 'grants nothing by itself',
  },
  {
    name: 'service pass lock not held',
    what: "a run told it is a service's pass adopts the lock file opened anew, though another process holds the lock",
    patches: [['  if (!ours) throw refused(', '  if (Number.isNaN(0)) throw refused(']],
    tests: ['packages/logjam-upload/test/supervisor.integration.test.ts'],
    grep: 'grants nothing by itself',
  },
  {
    name: 'service outlives a configuration error',
    what: 'the upload service goes on after its first pass found a configuration error (no bucket, no credentials), logging it every interval',
    patches: [['        const final = first && exitCode === EXIT_USAGE;', '        const final = false;']],
    tests: ['packages/logjam-upload/test/supervisor.integration.test.ts'],
    grep: 'configuration error at its first pass',
  },
  {
    name: 'stop not passed to the pass',
    what: 'SIGTERM stops the upload service but not the pass it runs in a child, which keeps the service from exiting',
    patches: [["    options.signal.addEventListener('abort', stop, { once: true });", '    void stop;']],
    tests: ['packages/logjam-upload/test/supervisor.integration.test.ts'],
    grep: 'SIGTERM while a pass runs',
  },
  {
    name: 'upload service keeps the JIT',
    what: "the upload service runs with V8's optimizing compilers, whose code (5-6 MB of Node's binary) it then holds while idle",
    patches: [
      [
        '  if (!execve || !leanServiceSupported()) return;',
        '  if (!execve || !leanServiceSupported() || !Number.isNaN(0)) return;',
      ],
    ],
    tests: ['packages/logjam-upload/test/supervisor.integration.test.ts'],
    grep: "runs without V8's JIT",
    nodeLine: '24',
  },
  {
    name: 'upload passes without the JIT',
    what: "the upload service's passes inherit its --jitless and upload with V8's interpreter alone",
    patches: [['    if (saved) env.NODE_OPTIONS = saved;\n    else delete env.NODE_OPTIONS;\n', '    void saved;\n']],
    tests: ['packages/logjam-upload/test/supervisor.integration.test.ts'],
    grep: 'JIT|descriptor 3;',
    nodeLine: '24',
  },
  {
    name: 'unknown LOGJAM variable unnamed',
    what: 'a LOGJAM_* variable no logjam reads (a typo) is ignored without a word',
    patches: [
      [
        '      warnings.push(\n        `${name} is not a variable ${binary} knows',
        '      if (Number.isNaN(0)) warnings.push(\n        `${name} is not a variable ${binary} knows',
      ],
    ],
    tests: ['test/env-variables.test.ts'],
  },
  {
    name: 'mode taken from the environment',
    what: 'LOGJAM_CHECK / LOGJAM_DRY_RUN left in an environment switch a run to --check / --dry-run',
    patches: [
      [
        "    if (!flag || flag === '--help' || flag === '--version' || COMMAND_LINE_ONLY.includes(flag)) continue;",
        "    if (!flag || flag === '--help' || flag === '--version') continue;",
      ],
    ],
    tests: ['test/env-variables.test.ts'],
  },
  {
    name: 'names outside the grammar hidden',
    what: 'a file named like a dated log but outside the grammar is ignored without being counted or listed',
    patches: [['      if (reason) ignored.push({ name: entry.name, reason });', '']],
    tests: ['test/names-outside-grammar.test.ts'],
  },
  {
    name: 'gzip log compressed silently',
    what: 'a log already gzip is compressed again into NAME.gz.gz without a word',
    patches: [
      ["    if (c.log.extension.endsWith('.gz')) {", "    if (c.log.extension.endsWith('.gz') && Number.isNaN(0)) {"],
    ],
    tests: ['test/names-outside-grammar.test.ts'],
  },
  {
    name: "help shows clipanion's #0",
    what: '--help shows `--level #0` instead of the value name',
    patches: [
      [
        "definition: m[2] ? `${m[1]} ${names[flag] ?? 'VALUE'}` : m[1]!,",
        'definition: m[2] ? `${m[1]}${m[2]}` : m[1]!,',
      ],
    ],
    tests: ['test/help.test.ts'],
  },
  {
    name: 'marker failure said as an S3 error',
    what: 'a file in S3 whose marker cannot be written is logged as `upload failed` with `Error in S3 as …`',
    patches: [
      [
        "    if (error instanceof MarkerError)\n      this.ctx.log.error('uploaded, but not marked'",
        "    if (error instanceof MarkerError && Number.isNaN(0))\n      this.ctx.log.error('uploaded, but not marked'",
      ],
    ],
    tests: ['test/operator-errors.test.ts'],
    grep: 'not marked',
  },
  // issue 29: logjam-upload --audit
  {
    name: 'audit size comparison skipped',
    what: "--audit no longer compares an object's size with its archive's (a truncated object is not called truncated)",
    patches: [['  if (stored === undefined || stored === local) return null;', '  if (stored !== -1) return null;']],
    tests: ['packages/logjam-upload/test/audit.integration.test.ts'],
    grep: 'names exactly the archive deleted',
  },
  {
    name: 'audit ETag comparison skipped',
    what: "--audit takes an object of the archive's size for the archive, whatever its ETag",
    patches: [['    if (etag === md5) return { same: true };', '    if (etag === md5 || md5) return { same: true };']],
    tests: ['packages/logjam-upload/test/audit.integration.test.ts'],
    grep: 'names exactly the archive deleted',
  },
  // issue 23: root over folders that others own
  {
    name: 'owner not checked',
    what: 'as root, a folder another user owns is accepted (only its mode is checked)',
    patches: [
      [
        '  if (stats.uid !== 0) return { owner: stats.uid };',
        '  if (stats.uid !== 0 && Number.isNaN(0)) return { owner: stats.uid };',
      ],
    ],
    tests: ['test/security-owners.test.ts'],
    grep: 'ownership, not only mode',
  },
  {
    name: 'folders above not checked',
    what: 'as root, the folders above LOG_DIR are not checked: one another user owns or can write is accepted',
    patches: [
      [
        '      if (rule)\n        await checkFolder(target, walked,',
        '      if (rule && index === steps.length - 1)\n        await checkFolder(target, walked,',
      ],
    ],
    tests: ['test/security-owners.test.ts'],
    grep: 'below a folder',
  },
  {
    name: 'path resolved, not walked',
    what: 'a link in the path of LOG_DIR or ARCHIVE_DIR is followed',
    patches: [
      [
        'const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;',
        'const DIRECTORY = constants.O_RDONLY | constants.O_DIRECTORY;',
      ],
    ],
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
    patches: [
      ['    if (stat.nlink > 1 && process.geteuid?.() === 0) {', '    if (stat.nlink > 1 && Number.isNaN(0)) {'],
    ],
    tests: ['test/security-owners.test.ts'],
    grep: 'hard link',
  },
  {
    name: 'lock judged by pid, not held by the kernel',
    what: 'a process that names itself logjam-compress, its pid in the lock file, keeps the folder locked',
    patches: [
      [
        '  if (!(await flockRuns())) return tryPidLock(file, options);',
        '  if (!Number.isNaN(0) || !(await flockRuns())) return tryPidLock(file, options);',
      ],
    ],
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
    patches: [
      [
        '    (process as unknown as { initgroups(user: string, extraGroup: number): void }).initgroups(user, Number(gid));',
        '    process.setgroups!([Number(gid)]);',
      ],
    ],
    tests: ['test/security-attacker.test.ts'],
    grep: 'supplementary groups',
  },
  {
    name: "--user child gets the user's HOME",
    what: "the --user child's HOME is the user's: their ~/.aws/config (endpoint_url) is read by root's upload",
    patches: [
      [
        '  return { ...out, USER: who.name,',
        '  return { ...out, ...(who.home ? { HOME: who.home } : {}), USER: who.name,',
      ],
    ],
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
    patches: [
      [
        "  const proven = given !== null && (endpoint === undefined || mode === 'no');",
        '  const proven = given !== null;',
      ],
    ],
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
    patches: [
      [
        '  return `${prefix}${PROBE_FOLDER}${host}-${folder}`;',
        '  return `${prefix}${PROBE_FOLDER}${host}-${folder}-${Math.random().toString(16).slice(2)}`;',
      ],
    ],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'killed at any request|PutObject-only',
  },
  {
    name: 'probe not deleted',
    what: "the probe's object is left in the bucket",
    patches: [
      [
        '    if (written) {\n      await client.send(new s3.DeleteObjectCommand',
        '    if (written && Number.isNaN(0)) {\n      await client.send(new s3.DeleteObjectCommand',
      ],
    ],
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
    patches: [
      [
        '    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {',
        '    if (uid === -1) {',
      ],
    ],
    tests: ['packages/logjam-upload/test/profile.test.ts'],
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
    name: 'STS around the proxy',
    what: "the credential chain's STS (web identity) requests go directly, not through the proxy",
    patches: [
      [
        '  const clientConfig =\n    network.proxies || network.ca\n      ? {',
        '  const clientConfig =\n    Number.isNaN(0)\n      ? {',
      ],
    ],
    tests: ['test/egress-proxy.test.ts'],
    grep: 'web identity',
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
    patches: [
      ['.filter((entry) => entry.isFile() && !entry.name.startsWith', '.filter((entry) => !entry.name.startsWith'],
    ],
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
  {
    name: 'profile takes what was said',
    what: "the profile records the writes --conditional-writes gave the pass (put-only) instead of what the store's probe found",
    patches: [
      [
        '(used.put !== writes.put || used.complete !== writes.complete)',
        '(facts.writes?.put !== writes.put || facts.writes?.complete !== writes.complete)',
      ],
    ],
    tests: ['packages/logjam-upload/test/store-profile.integration.test.ts'],
    grep: 'honours more',
  },
];

/** @param {string[] | undefined} folders */
function sourceFiles(folders) {
  /** @type {string[]} */
  const files = [];
  const walk = (/** @type {string} */ dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith('.ts')) files.push(file);
    }
  };
  if (folders) for (const folder of folders) walk(path.join(root, folder));
  else for (const pkg of readdirSync(path.join(root, 'packages'))) walk(path.join(root, 'packages', pkg, 'src'));
  return files;
}

/**
 * Applies a mutation's patches (writes nothing with dryRun); returns the files' original texts, to put back.
 * @param {Mutation} mutation
 * @param {{ dryRun?: boolean }} [options]
 */
function apply(mutation, { dryRun = false } = {}) {
  /** @type {Map<string, string>} */
  const originals = new Map();
  const text = (/** @type {string} */ file) => originals.get(file) ?? readFileSync(file, 'utf8');
  /** @type {Map<string, string>} */
  const current = new Map();
  for (const [search, replacement] of mutation.patches) {
    const hits = sourceFiles(mutation.in).flatMap((file) => {
      const content = current.get(file) ?? text(file);
      const count = content.split(search).length - 1;
      return Array.from({ length: count }, () => file);
    });
    if (hits.length !== 1)
      throw new Error(
        `"${mutation.name}": the search string occurs ${hits.length} times under ${mutation.in?.join(', ') ?? 'packages/*/src'} (must be once): ${JSON.stringify(search)}`,
      );
    const file = /** @type {string} */ (hits[0]);
    if (!originals.has(file)) originals.set(file, readFileSync(file, 'utf8'));
    current.set(
      file,
      (current.get(file) ?? text(file)).replace(search, () => replacement),
    );
  }
  if (!dryRun) for (const [file, content] of current) writeFileSync(file, content);
  return originals;
}

/** @param {string} command @param {string[]} args @param {NodeJS.ProcessEnv} [env] */
function run(command, args, env = process.env) {
  return spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env });
}

/** The environment whose PATH starts with a Node line's bin folder (.ci/node-install fetches it once). @param {string} line */
function withNodeLine(line) {
  const version = readFileSync(path.join(root, '.ci/node-versions'), 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${line}.`));
  if (!version) throw new Error(`no Node ${line} in .ci/node-versions`);
  const installed = run(path.join(root, '.ci/node-install'), [version]);
  if (installed.status !== 0) throw new Error(`no Node ${version} from .ci/node-install: ${installed.stderr}`);
  return { ...process.env, PATH: `${installed.stdout.trim()}${path.delimiter}${process.env.PATH}` };
}

function build() {
  const result = run('npm', ['run', 'build']);
  if (result.status !== 0) throw new Error(`build failed:\n${result.stdout}\n${result.stderr}`);
}

if (process.argv[2] === '--check') {
  const problems = [];
  for (const mutation of MUTATIONS) {
    try {
      apply(mutation, { dryRun: true });
    } catch (error) {
      problems.push(String(error instanceof Error ? error.message : error));
    }
    for (const test of mutation.tests)
      if (!existsSync(path.join(root, test))) problems.push(`"${mutation.name}": no test file ${test}`);
  }
  console.log(
    problems.length
      ? problems.join('\n')
      : `${MUTATIONS.length} mutations: every search string occurs once, every test file exists`,
  );
  process.exit(problems.length ? 1 : 0);
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
        rows.push({
          ...mutation,
          outcome: `BUILD FAILED (fix the mutation): ${String(error).slice(-500)}`,
          seconds: 0,
        });
        console.log(`BUILD FAILED ${mutation.name}`);
        continue;
      }
      const args = [
        'mocha',
        '--timeout',
        '600000',
        '--reporter',
        'dot',
        ...(mutation.grep ? ['--grep', mutation.grep] : []),
        ...mutation.tests,
      ];
      const result = run('npx', args, mutation.nodeLine ? withNodeLine(mutation.nodeLine) : process.env);
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
for (const row of rows)
  console.log(
    `| ${row.name} | ${row.what} | ${row.tests.map((t) => path.basename(t)).join(', ')}${row.grep ? ` (“${row.grep}”)` : ''} | ${row.outcome} |`,
  );
console.log(
  `\n${rows.filter((r) => r.outcome.startsWith('caught')).length} of ${rows.length} caught, in ${Math.floor(total / 60)} min ${total % 60} s`,
);
process.exit(rows.every((r) => r.outcome.startsWith('caught')) ? 0 : 1);
