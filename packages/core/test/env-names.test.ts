import { expect } from 'chai';
import { editDistance, envWarnings } from '../src/env-names.ts';

describe('LOGJAM_* variables logjam does not read', () => {
  it('edit distance counts a swap of neighbours as one', () => {
    expect(editDistance('LOGJAM_MIN_AEG', 'LOGJAM_MIN_AGE')).to.equal(1);
    expect(editDistance('LOGJAM_LEVL', 'LOGJAM_LEVEL')).to.equal(1);
    expect(editDistance('abc', 'abc')).to.equal(0);
    expect(editDistance('', 'ab')).to.equal(2);
  });

  it("names a typo with this binary's closest variable; says nothing of its own, the other tool's, or the project's development variables", () => {
    const env = {
      LOGJAM_MIN_AEG: '0',
      LOGJAM_LEVEL: '9',
      LOGJAM_SPLAY: '10m',
      LOGJAM_TEST_RGW: 'x',
      PATH: '/bin',
      LOGJAM_ENDPOINT_URLS: 'x',
    };
    expect(envWarnings(env, 'logjam-compress')).to.deep.equal([
      'LOGJAM_ENDPOINT_URLS is not a variable logjam-compress knows, and is ignored; did you mean LOGJAM_INTERVAL?',
      'LOGJAM_MIN_AEG is not a variable logjam-compress knows, and is ignored; did you mean LOGJAM_MIN_AGE?',
    ]);
    expect(envWarnings(env, 'logjam-upload')).to.deep.equal([
      'LOGJAM_ENDPOINT_URLS is not a variable logjam-upload knows, and is ignored; did you mean LOGJAM_ENDPOINT_URL?',
      'LOGJAM_MIN_AEG is not a variable logjam-upload knows, and is ignored; did you mean LOGJAM_MAX_AGE?',
    ]);
  });

  it('says that LOGJAM_CHECK and LOGJAM_DRY_RUN are ignored, every run', () => {
    const [check, dry] = envWarnings({ LOGJAM_CHECK: '1', LOGJAM_DRY_RUN: '0' }, 'logjam-upload');
    expect(check).to.match(/^LOGJAM_CHECK is ignored: --check is taken from the command line only/);
    expect(dry).to.match(/^LOGJAM_DRY_RUN is ignored: --dry-run is taken from the command line only/);
  });
});
