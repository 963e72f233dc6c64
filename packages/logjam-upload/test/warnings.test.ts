import { expect } from 'chai';
import { isRoutineWarning } from '../src/warnings.ts';

const warning = (name: string, message: string): Error => Object.assign(new Error(message), { name });

describe('isRoutineWarning (warnings of every run, kept at debug)', () => {
  it("the AWS SDK's Node-version warning and the executable loader's vm warning are routine", () => {
    expect(isRoutineWarning(warning('NodeVersionSupportWarning', 'The AWS SDK for JavaScript (v3) ...'))).to.equal(
      true,
    );
    expect(
      isRoutineWarning(
        warning(
          'ExperimentalWarning',
          'vm.USE_MAIN_CONTEXT_DEFAULT_LOADER is an experimental feature and might change at any time',
        ),
      ),
    ).to.equal(true);
  });

  it('any other warning, another experimental feature included, is not', () => {
    expect(isRoutineWarning(warning('ExperimentalWarning', 'WASI is an experimental feature'))).to.equal(false);
    expect(
      isRoutineWarning(warning('DeprecationWarning', 'vm.USE_MAIN_CONTEXT_DEFAULT_LOADER is deprecated')),
    ).to.equal(false);
    expect(isRoutineWarning(warning('Warning', 'MaxListenersExceededWarning'))).to.equal(false);
  });
});
