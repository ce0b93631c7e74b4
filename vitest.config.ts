import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

// `#lib` imports resolve to the TypeScript sources: the `source` condition of package.json "imports".
const packageJson = JSON.parse(
  readFileSync(new URL('./package.json', import.meta.url), 'utf8'),
) as {
  imports: Record<string, { source: string }>;
};
const alias = Object.entries(packageJson.imports).map(([find, target]) => ({
  find: new RegExp(`^${find}$`),
  replacement: fileURLToPath(new URL(target.source, import.meta.url)),
}));

/** The tokenizer against js-tiktoken on large inputs and on its (compiled) worker threads. */
const EXACTNESS = 'libs/**/*.exactness.spec.ts';
/** A store or the ledger alone, without the app. */
const INTEGRATION = ['test/budget/**/*.test.ts', 'test/ledger/**/*.test.ts'];
/** One run, one test database and Redis key prefix (test/support/global-setup.ts). */
const services = { globalSetup: ['test/support/global-setup.ts'] };

/**
 * The test projects (README "Development"):
 * - unit: specs beside the code; no build, no Postgres, no Redis; seconds.
 * - exactness: `*.exactness.spec.ts` beside the code, the tokenizer against js-tiktoken over
 *   large corpora and on its worker threads (compiled: after `npm run build`); minutes.
 * - integration: test/budget and test/ledger on real Redis and Postgres, from the sources.
 * - e2e: every other test/ folder (e2e, admin, faults…): the service over HTTP, in-process or
 *   as its compiled dist/ in a process, and its behaviour under faults.
 * `npm test` builds and runs them all.
 */
export default defineConfig({
  // SWC compiles the tests so that Nest's decorators get their design-time metadata (esbuild emits none).
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts'],
          exclude: [...configDefaults.exclude, EXACTNESS],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: INTEGRATION,
          ...services,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...INTEGRATION],
          ...services,
        },
      },
      { extends: true, test: { name: 'exactness', include: [EXACTNESS], testTimeout: 120_000 } },
    ],
  },
});
