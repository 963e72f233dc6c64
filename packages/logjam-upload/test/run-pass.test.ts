import { expect } from 'chai';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { LogName } from '@logjam/core';
import { cleanupTmpDirs, makeArchiveDir } from '../../../test/support/index.ts';
import { listPending } from '../src/ledger.ts';
import type { PreparedPass } from '../src/pass.ts';
import { onePass, type PassBase, type PassRun } from '../src/run-pass.ts';
import type { RunOptions } from '../src/run-options.ts';
import type { BucketCheck, StoreCapabilities, StoreWrites } from '../src/store.ts';
import { parseTemplate } from '../src/template.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('one pass of a run', () => {
  afterEach(cleanupTmpDirs);

  it("goes by the pass's one listing: the bucket check, the store's capabilities and the metrics' backlog all get it", async () => {
    const dir = await makeArchiveDir({ 'a-20240105T1200Z.log.gz': 'a', 'b-20240105T1300Z.log.gz': 'b' });
    const listed = await listPending(dir);
    // Arrives after the pass's listing: the next pass's to count, never listed again by this one.
    await fs.writeFile(path.join(dir, 'c-20240105T1400Z.log.gz'), 'c');
    const seen: { checked?: LogName[]; learned?: LogName[] } = {};
    const capabilities: StoreCapabilities = {
      conditionalWrites: { put: true, complete: true },
      listing: { supported: true },
    };
    const bucket = {
      checked: false,
      async check(pending: LogName[]) {
        seen.checked = pending;
        bucket.checked = true;
      },
      async afterPass() {},
    };
    const store = {
      current: () => capabilities,
      async learn(pending: LogName[]) {
        seen.learned = pending;
        return capabilities;
      },
      async afterPass() {},
    };
    // A prepared pass that hands out no file: both are left for the next run.
    const prepared = {
      pending: Promise.resolve(listed),
      taken: 0,
      take: () => undefined,
      close: async () => {},
    } as unknown as PreparedPass;
    const options = {
      metricsFile: path.join(dir, '..', 'metrics.prom'),
      log: quiet,
      once: true,
    } as unknown as RunOptions;
    const run: PassRun = {
      options,
      bucket: bucket as unknown as BucketCheck,
      store: store as unknown as StoreWrites,
      sizes: new Map(),
    };
    const ctx = { archiveDir: dir, signal: new AbortController().signal, jobs: 2, log: quiet } as unknown as PassBase;

    const outcome = await onePass(run, ctx, prepared);
    expect(seen.checked).to.equal(listed);
    expect(seen.learned).to.equal(listed);
    expect(outcome.summary?.notDone).to.equal(2);
    expect(outcome.backlog.map((item) => path.basename(item.file))).to.deep.equal([
      'a-20240105T1200Z.log.gz',
      'b-20240105T1300Z.log.gz',
    ]);
  });

  it('a bucket still not usable: the pass fails as a whole, learns nothing of the store, and leaves every file in the backlog', async () => {
    const dir = await makeArchiveDir({ 'a-20240105T1200Z.log.gz': 'a', 'b-20240105T1300Z.log.gz': 'b' });
    const errors: string[] = [];
    const log = { ...quiet, error: (message: string) => errors.push(message) };
    let learned = false;
    const bucket = {
      checked: false,
      async check() {
        throw new Error('connect ECONNREFUSED');
      },
    };
    const store = {
      async learn() {
        learned = true;
      },
    };
    const options = {
      metricsFile: path.join(dir, '..', 'metrics.prom'),
      log,
      once: false,
      template: parseTemplate('s3://logs/{prefix}/{year}/{month}/{day}/{filename}'),
    } as unknown as RunOptions;
    const run: PassRun = {
      options,
      bucket: bucket as unknown as BucketCheck,
      store: store as unknown as StoreWrites,
      sizes: new Map(),
    };
    const ctx = { archiveDir: dir, signal: new AbortController().signal, jobs: 2, log } as unknown as PassBase;

    const outcome = await onePass(run, ctx, undefined);
    expect(outcome.exitCode).to.equal(1);
    expect(outcome.summary).to.equal(undefined);
    expect(learned).to.equal(false);
    expect(errors).to.deep.equal(['the bucket is still not usable']);
    expect(outcome.backlog.map((item) => path.basename(item.file))).to.deep.equal([
      'a-20240105T1200Z.log.gz',
      'b-20240105T1300Z.log.gz',
    ]);
  });
});
