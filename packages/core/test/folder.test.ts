import { expect } from 'chai';
import { constants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { folderProblem } from '../src/folder.js';

describe('the folder check both tools make', () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'logjam-folder-'));
    await fs.writeFile(path.join(dir, 'file'), 'x');
  });
  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('finds nothing wrong with a folder this user can use', async () => {
    expect(await folderProblem(dir, constants.R_OK | constants.W_OK | constants.X_OK)).to.equal(null);
  });

  it('tells a missing folder (or one under a file) from a file', async () => {
    expect(await folderProblem(path.join(dir, 'none'))).to.equal('missing');
    expect(await folderProblem(path.join(dir, 'file', 'below'))).to.equal('missing');
    expect(await folderProblem(path.join(dir, 'file'))).to.equal('not a folder');
  });
});
