import { expect } from 'chai';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, passExitCode } from '../src/errors.ts';

describe('exit codes', () => {
  it("a pass's: a directory's configuration error outweighs a failed file, which outweighs success", () => {
    expect(passExitCode({ configErrors: 0, failed: 0 })).to.equal(EXIT_OK);
    expect(passExitCode({ configErrors: 0, failed: 3 })).to.equal(EXIT_FAILED);
    expect(passExitCode({ configErrors: 1, failed: 3 })).to.equal(EXIT_USAGE);
  });
});
