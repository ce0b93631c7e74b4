import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The compose stack publishes only the service's port: a local Redis or Postgres never clashes. */
describe('docker-compose.yml', () => {
  it('publishes the api port and nothing else', () => {
    const text = readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8');
    const services = text.slice(text.indexOf('\nservices:'));
    const published: string[] = [];
    let service = '';
    for (const line of services.split('\n')) {
      const name = /^ {2}([\w-]+):\s*$/.exec(line);
      if (name) {
        service = name[1]!;
      }
      if (/^\s+ports:/.test(line)) {
        published.push(`${service} ${line.trim()}`);
      }
    }
    expect(published).toEqual(["api ports: ['3000:3000']"]);
  });
});
