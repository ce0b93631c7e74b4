import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      eqeqeq: 'error',
      curly: 'error',
    },
  },
  // Libs are imported by name (package.json "imports": #kernel, #config, #tokenizer, #budget,
  // #ledger) and only through their index.ts: no relative path into a lib from outside it, no
  // deep import past an index.
  {
    files: ['**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/libs/**', '#*/**'],
              message: 'Import a lib by its name (#budget, #ledger, …), through its index.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/*/src/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../**', '../*/**', '#*/**'],
              message: 'Import another lib by its name (#budget, #ledger, …), never by a path.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/*/src/*/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../../**', '../../*/**', '#*/**'],
              message: 'Import another lib by its name (#budget, #ledger, …), never by a path.',
            },
          ],
        },
      ],
    },
  },
  // The dashboard's static files run in the browser, as plain ES modules (no build step).
  {
    files: ['apps/api/src/dashboard/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'document',
          'fetch',
          'sessionStorage',
          'setTimeout',
          'clearTimeout',
          'Node',
          'ResizeObserver',
          'Intl',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
  prettier,
);
