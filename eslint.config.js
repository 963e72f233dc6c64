// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/', '**/dist/', 'packages/*/bin/', 'bench/out/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // A leading underscore marks a name kept on purpose (an interface's parameter, a property split off a rest).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `catch {}` is how best-effort clean-up (a temp file that may be gone, a process already dead) says "either way".
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // Files and functions one can read whole (issue 27): a function over 60 lines is split, unless it is a table
    // of facts (then an eslint-disable-next-line saying so).
    files: ['packages/*/src/**/*.ts'],
    rules: {
      'max-lines': ['error', { max: 300, skipBlankLines: false, skipComments: false }],
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: false, skipComments: false }],
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    // CommonJS is what require() is for: these files are preloaded with `node --require`.
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**', 'packages/*/test/**'],
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
    rules: {
      // chai asserts with property reads: expect(x).to.be.empty, .to.be.true.
      '@typescript-eslint/no-unused-expressions': 'off',
      // Tests match the terminal escapes (\x1b[...) the progress bar draws.
      'no-control-regex': 'off',
    },
  },
);
