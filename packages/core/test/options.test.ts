import { expect } from 'chai';
import { parseDuration, parseInteger, parseSize } from '../src/options.ts';

describe('option values', () => {
  it('parses durations: units or seconds, the same for every duration option', () => {
    expect(parseDuration('--max-age', '90m')).to.equal(5_400_000);
    expect(parseDuration('--max-age', '2h')).to.equal(7_200_000);
    expect(parseDuration('--max-age', '1d')).to.equal(86_400_000);
    expect(parseDuration('--max-age', '45s')).to.equal(45_000);
    expect(parseDuration('--delete-uploaded-after', '7d')).to.equal(7 * 86_400_000);
    expect(parseDuration('--delete-uploaded-after', '2w')).to.equal(14 * 86_400_000);
    expect(parseDuration('--delete-uploaded-after', '7200')).to.equal(parseDuration('--max-age', '7200'));
    expect(parseDuration('--min-age', '0.5')).to.equal(500);
  });

  it('refuses a duration that is not one, naming the option', () => {
    for (const bad of ['', '2 hours', '-1', 'h', '-1d', '2y']) expect(() => parseDuration('--max-age', bad), bad).to.throw(/^--max-age takes a duration such as 90m/);
  });

  it('refuses a duration out of its bounds', () => {
    expect(() => parseDuration('--interval', '0', { minMs: 1000 })).to.throw(/--interval takes a duration of at least 1s/);
    expect(() => parseDuration('--interval', '2d', { minMs: 1000, maxMs: 86_400_000 })).to.throw(/from 1s to 86400s/);
    expect(parseDuration('--interval', '1d', { minMs: 1000, maxMs: 86_400_000 })).to.equal(86_400_000);
  });

  it('parses sizes and counts, and refuses nonsense', () => {
    expect(parseSize('--x', '5M')).to.equal(5 * 1024 * 1024);
    expect(parseSize('--x', '16MiB')).to.equal(16 * 1024 * 1024);
    expect(parseSize('--x', '1g')).to.equal(1024 ** 3);
    expect(parseSize('--x', '5242880')).to.equal(5242880);
    expect(() => parseSize('--x', 'lots')).to.throw(/size such as/);
    expect(parseInteger('--jobs', '4', 1, 64)).to.equal(4);
    expect(() => parseInteger('--jobs', '0', 1, 64)).to.throw(/from 1 to 64/);
    expect(() => parseInteger('--jobs', '2.5', 1, 64)).to.throw(/whole number/);
  });
});
