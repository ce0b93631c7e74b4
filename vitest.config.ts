import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

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

// SWC compiles the tests so that Nest's decorators get their design-time metadata (esbuild emits none).
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
  test: {
    include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
