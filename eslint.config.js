// ESLint flat config: typescript-eslint recommended rules plus the dependency rule for pure modules.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const impure = [
  'node:fs', 'node:fs/promises', 'fs', 'fs/promises', 'node:child_process', 'child_process',
  'node:net', 'node:http', 'node:https', 'better-sqlite3', 'execa', 'node:worker_threads', 'node:os',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', URL: 'readonly', fetch: 'readonly', AbortController: 'readonly', AbortSignal: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', FormData: 'readonly', Blob: 'readonly', Headers: 'readonly', Response: 'readonly', Request: 'readonly', structuredClone: 'readonly', queueMicrotask: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-control-regex': 'off',
    },
  },
  {
    // Type-aware, for one rule: `return promise` inside try/finally runs the finally (closing held descriptors, say)
    // before the promise settles; `return await` there (session 27 found one closing a folder under a running put-back).
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/return-await': ['error', 'in-try-catch'] },
  },
  {
    // Pure layers: no filesystem, database, network, process or clock access.
    files: ['src/domain/**/*.ts', 'src/policy/**/*.ts', 'src/plan/**/*.ts', 'src/render/**/*.ts', 'src/config/normalize.ts', 'src/config/rules.ts', 'src/catalog/scan/decide.ts'],
    // `*-io.ts` files beside pure code are its effectful edge (e.g. src/plan/plan-file-io.ts reads/writes plan files).
    ignores: ['src/**/*-io.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: impure.map((name) => ({ name, message: 'pure module: inject effects instead' })) }],
      'no-restricted-globals': ['error', { name: 'process', message: 'pure module: pass values in' }, { name: 'fetch', message: 'pure module' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'pure module: time is passed in' }, { object: 'Math', property: 'random', message: 'pure module: ids are passed in' }],
    },
  },
);
