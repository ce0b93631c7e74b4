import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * The Node versions the project says it supports are true: every locked dependency supports the
 * oldest one `engines` names and the Node running the tests (so `npm ci` prints no EBADENGINE),
 * and the Docker image runs a current LTS.
 */
const semver = createRequire(import.meta.url)('semver') as {
  satisfies: (version: string, range: string) => boolean;
  minVersion: (range: string) => { version: string } | null;
};
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('supported Node versions', () => {
  const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
  const lock = JSON.parse(read('package-lock.json')) as {
    packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
  };

  it('every locked dependency supports the oldest Node of engines and this one', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const wanted = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      if (path === '' || wanted === undefined) {
        continue;
      }
      for (const node of [oldest, process.versions.node]) {
        if (!semver.satisfies(node, wanted)) {
          refused.push(`${path}@${entry.version} needs node ${wanted} (not ${node})`);
        }
      }
    }
    expect(refused).toEqual([]);
    expect(semver.satisfies(process.versions.node, pkg.engines.node)).toBe(true);
  });

  it('the Docker image runs a current LTS (Node 22 or 24)', () => {
    const images = [...read('Dockerfile').matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) {
      expect(image).toMatch(/^node:(22|24)[.-]/);
    }
  });
});
