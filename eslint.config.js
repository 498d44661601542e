// `npm run lint`: @eslint/js and typescript-eslint recommended (syntactic, not type-aware) over
// the project's own code. Generated and vendored output is not linted: it is checked by being
// rebuilt (scripts/build.mjs --check, factory generate --check).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'dist-cli/', 'dist-site/', 'build/', 'node_modules/', '.factory/', '.sandbox/', 'coverage/', 'out/', 'test-results/', 'factory-result/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: { ...globals.node } },
    rules: {
      // Escapers, sanitizers and the source-map markers (\u0001) match control characters on purpose.
      'no-control-regex': 'off',
      // A closure that reads a variable before its one assignment (a fault seen later) cannot make it const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_`-prefixed names are unused on purpose (a destructured field left out, a required parameter).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  { files: ['src/site/dashboard/**'], languageOptions: { globals: { ...globals.browser } } },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.commonjs } },
    // CommonJS files (test stand-ins run by plain node) load their modules with require().
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
