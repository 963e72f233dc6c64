// The reliability figures of a test run: kills survived, faults injected,
// requests retried, bytes verified. Tests add to them; a mocha root hook
// (this file is in .mocharc.json's `require`) prints one line at the end.
interface Figures {
  kills: number;
  faults: number;
  retried: number;
  requests: number;
  /** Bytes downloaded back from S3 and checked: byte-compared, or gunzipped and every line accounted for. */
  bytesVerified: number;
  linesVerified: number;
}

const shared = globalThis as typeof globalThis & { __logjamFigures?: Figures };
export const figures: Figures = (shared.__logjamFigures ??= {
  kills: 0,
  faults: 0,
  retried: 0,
  requests: 0,
  bytesVerified: 0,
  linesVerified: 0,
});

export function figuresLine(): string {
  const f = figures;
  return `reliability: kills=${f.kills}, faults injected=${f.faults}, requests retried=${f.retried} (of ${f.requests} proxied), bytes verified=${f.bytesVerified}, lines verified=${f.linesVerified}`;
}

export const mochaHooks = {
  afterAll(): void {
    if (figures.requests || figures.kills || figures.bytesVerified) console.log(`\n  ${figuresLine()}`);
  },
};
