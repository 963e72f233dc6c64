import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../src/log.js';
import {
  bytesToDisplay,
  displayName,
  hasRawBytes,
  nameBytes,
  nameFromBytes,
  namePath,
  readdirEntries,
  readdirNames,
} from '../src/rawname.js';

const hex = (h: string) => Buffer.from(h.replace(/ /g, ''), 'hex');

describe('names that are not UTF-8', () => {
  for (const [label, bytes, shown] of [
    ['valid UTF-8', hex('636166c3a9'), 'café'],
    ['a BOM at the start (kept)', hex('efbbbf61'), '\uFEFFa'],
    ['Latin-1', hex('636166e9'), 'caf%E9'],
    ['a truncated 4-byte sequence', hex('f09f98 41'), '%F0%9F%98A'],
    ['an overlong encoding', hex('c080'), '%C0%80'],
    ['an encoded surrogate', hex('eda080'), '%ED%A0%80'],
    ['a lone continuation byte after a valid character', hex('c3a9 a9'), 'é%A9'],
    ['a 4-byte character', hex('f09f9880'), '😀'],
  ] as const) {
    it(`${label}: shown as ${shown}, and back to the same bytes`, () => {
      const name = nameFromBytes(bytes);
      expect(displayName(name)).to.equal(shown);
      expect(bytesToDisplay(bytes)).to.equal(shown);
      expect(nameBytes(name).equals(bytes)).to.equal(true);
      expect(hasRawBytes(name)).to.equal(shown.includes('%'));
    });
  }

  it('lists such a name as its own bytes, and opens it by them', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'logjam-rawname-'));
    try {
      const raw = Buffer.concat([Buffer.from(`${dir}/`), hex('636166e9'), Buffer.from('-20240305T0700Z.log')]);
      await fs.writeFile(raw, 'latin-1\n');
      await fs.writeFile(path.join(dir, 'café-20240305T0700Z.log'), 'utf-8\n');
      const names = await readdirNames(dir);
      expect(names.map(displayName).sort()).to.deep.equal(['caf%E9-20240305T0700Z.log', 'café-20240305T0700Z.log']);
      const latin = names.find(hasRawBytes)!;
      expect(await fs.readFile(namePath(dir, latin), 'utf8')).to.equal('latin-1\n');
      const entries = await readdirEntries(dir);
      expect(
        entries
          .filter((e) => e.isFile())
          .map((e) => displayName(e.name))
          .sort(),
      ).to.deep.equal(['caf%E9-20240305T0700Z.log', 'café-20240305T0700Z.log']);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('shows such a name in log lines with the same %XX escapes, in text and in JSON', () => {
    const name = nameFromBytes(hex('636166e9'));
    for (const format of ['text', 'json'] as const) {
      let line = '';
      createLogger({ name: 't', format, write: (l) => (line = l) }).info(`compressed ${name}`, { file: name });
      expect(line.split('caf%E9')).to.have.length(3, line);
      expect(line).not.to.match(/[\uDC80-\uDCFF\uFFFD]|\\udce9/);
    }
  });
});
