// The archives logjam-compress writes, read back by the strict gzip readers
// log pipelines use: readers that stop at the end of the first gzip member and
// report success (Perl's IO::Uncompress::Gunzip and Ruby's Zlib::GzipReader
// by default, Python's zlib.decompressobj(31)) return every byte only when an
// archive is a single member.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { cleanupTmpDirs, runBin, tmpDir } from './support/index.ts';

const MB = 1024 * 1024;
const NAME = 'haproxy-20130704T0000Z-us-west-2-i-ae23fega.log';

/** Each reader prints "<bytes read> <sha256 of them>" and exits 0, or fails. */
const READERS: Array<[string, string, string[]]> = [
  [
    "Perl's IO::Uncompress::Gunzip, default options",
    'perl',
    [
      '-MIO::Uncompress::Gunzip=$GunzipError',
      '-MDigest::SHA',
      '-e',
      'my $z = IO::Uncompress::Gunzip->new($ARGV[0]) or die $GunzipError; my $sha = Digest::SHA->new(256); my ($n, $r, $buf) = (0);' +
        ' while (($r = $z->read($buf, 1 << 20)) > 0) { $sha->add($buf); $n += length $buf } die $GunzipError if $r < 0; print "$n ", $sha->hexdigest, "\\n"',
    ],
  ],
  [
    "Ruby's Zlib::GzipReader",
    'ruby',
    [
      '-rzlib',
      '-rdigest',
      '-e',
      'sha = Digest::SHA256.new; n = 0; Zlib::GzipReader.open(ARGV[0]) { |gz| while (b = gz.read(1 << 20)); sha << b; n += b.bytesize; end }; puts "#{n} #{sha.hexdigest}"',
    ],
  ],
  [
    "Python's zlib.decompressobj(31), nothing unused after the member",
    'python3',
    [
      '-c',
      [
        'import hashlib, sys, zlib',
        'd, sha, n = zlib.decompressobj(31), hashlib.sha256(), 0',
        'with open(sys.argv[1], "rb") as f:',
        '    for chunk in iter(lambda: f.read(1 << 20), b""):',
        '        out = d.decompress(chunk); sha.update(out); n += len(out)',
        'assert d.eof and d.unused_data == b"", "unused data after the first member: %d bytes" % len(d.unused_data)',
        'print(n, sha.hexdigest())',
      ].join('\n'),
    ],
  ],
];

/** A log of about `size` bytes: varied haproxy lines, compressible as real ones are. */
function logOf(size: number): Buffer {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < size; i += 1) {
    const line = `Jul  4 00:${String((i >> 12) % 60).padStart(2, '0')}:00 lb1 haproxy[4242]: 10.0.${i % 251}.${(i * 7) % 253}:${40000 + (i % 20011)} [04/Jul/2013:00:00:00.${String(i % 1000).padStart(3, '0')}] www~ web/web${i % 8} 0/0/1/${(i * 31) % 97}/${i % 113} 200 ${1000 + ((i * 13) % 5003)} - - ---- 1/1/0/0/0 0/0 "GET /item/${(i * 2654435761) % 1000003} HTTP/1.1"\n`;
    lines.push(line);
    length += line.length;
  }
  return Buffer.from(lines.join(''));
}

describe('archives read by strict gzip readers (built binary)', function () {
  this.timeout(300_000);
  afterEach(cleanupTmpDirs);

  for (const size of [12 * MB, 100 * MB]) {
    it(`every reader returns every byte of a ${size / MB} MB log: the archive is one gzip member`, async () => {
      const dir = await tmpDir();
      const log = logOf(size);
      const expected = `${log.length} ${createHash('sha256').update(log).digest('hex')}`;
      await fs.writeFile(path.join(dir, NAME), log);
      // Last written an hour ago: past the grace period.
      await fs.utimes(path.join(dir, NAME), Date.now() / 1000 - 3600, Date.now() / 1000 - 3600);
      const result = await runBin('logjam-compress', ['--once', '--jobs', '2', dir], { timeoutMs: 240_000 });
      expect(result.code, result.stderr).to.equal(0);
      expect(await fs.readdir(dir), 'the source compressed and deleted').to.deep.equal(['archive']);
      const archive = path.join(dir, 'archive', `${NAME}.gz`);
      for (const [reader, command, args] of READERS) {
        const read = spawnSync(command, [...args, archive], {
          encoding: 'utf8',
          timeout: 120_000,
          killSignal: 'SIGKILL',
        });
        expect(read.status, `${reader}: ${read.stderr}`).to.equal(0);
        expect(read.stdout.trim(), reader).to.equal(expected);
      }
      const test = spawnSync('gzip', ['-t', archive], { encoding: 'utf8', timeout: 120_000, killSignal: 'SIGKILL' });
      expect(test.status, `gzip -t: ${test.stderr}`).to.equal(0);
    });
  }
});
