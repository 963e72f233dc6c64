import { expect } from 'chai';
import { Cli, Command, Option } from 'clipanion';
import {
  isChoice,
  isDuration,
  isMatching,
  isSize,
  isWholeNumber,
  parseDuration,
  parseInteger,
  parseSize,
} from '../src/options.ts';

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
    for (const bad of ['', '2 hours', '-1', 'h', '-1d', '2y'])
      expect(() => parseDuration('--max-age', bad), bad).to.throw(/^--max-age takes a duration such as 90m/);
  });

  it('refuses a duration out of its bounds', () => {
    expect(() => parseDuration('--interval', '0', { minMs: 1000 })).to.throw(
      /--interval takes a duration of at least 1s/,
    );
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

  it('checks an option where it is declared: the value arrives parsed, a bad one says the same as the parser', () => {
    class Options extends Command {
      maxAgeMs = Option.String('--max-age', '2h', { validator: isDuration('--max-age') });
      jobs = Option.String('--jobs', { validator: isWholeNumber('--jobs', 1, 64) });
      partSize = Option.String('--part-size', '8M', {
        validator: isSize('--part-size', { min: 5 * 1024 ** 2, max: 5 * 1024 ** 3, range: 'from 5M to 5G' }),
      });
      sse = Option.String('--sse', { validator: isChoice('--sse', ['AES256', 'aws:kms']) });
      storageClass = Option.String('--storage-class', {
        validator: isMatching(
          /^[A-Z_]+$/,
          (text) => `--storage-class takes a class such as STANDARD_IA, not '${text}'`,
        ),
      });
      async execute() {
        return 0;
      }
    }
    const cli = new Cli();
    cli.register(Options);
    const parse = (...argv: string[]) => cli.process(argv) as Options;
    expect(parse()).to.include({ maxAgeMs: 7_200_000, jobs: undefined, partSize: 8 * 1024 ** 2, sse: undefined });
    expect(parse('--max-age', '90m', '--jobs', '8', '--part-size', '16M', '--sse', 'aws:kms')).to.include({
      maxAgeMs: 5_400_000,
      jobs: 8,
      partSize: 16 * 1024 ** 2,
      sse: 'aws:kms',
    });
    expect(() => parse('--max-age', '2x')).to.throw(
      /^--max-age takes a duration such as 90m, 2h, 7d or a number of seconds, not '2x'$/,
    );
    expect(() => parse('--jobs', '0')).to.throw(/^--jobs takes a whole number from 1 to 64, not '0'$/);
    expect(() => parse('--part-size', '4M')).to.throw(/^--part-size must be from 5M to 5G, not '4M'$/);
    expect(() => parse('--sse', 'aes')).to.throw(/^--sse takes AES256 or aws:kms, not 'aes'$/);
    expect(parse('--storage-class', 'GLACIER_IR')).to.include({ storageClass: 'GLACIER_IR' });
    expect(() => parse('--storage-class', 'glacier')).to.throw(
      /^--storage-class takes a class such as STANDARD_IA, not 'glacier'$/,
    );
  });
});
