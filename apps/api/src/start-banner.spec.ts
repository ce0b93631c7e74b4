import { describe, expect, it } from 'vitest';
import { apiKeyLines } from './start-banner.js';

describe('the start banner', () => {
  const key = 'tb_production_secret_value_0123456789';

  it('never prints a configured BOOTSTRAP_API_KEY in clear, only a masked prefix', () => {
    const text = apiKeyLines(key, 'configured', 'http://localhost:3000').join('\n');
    expect(text).not.toContain(key);
    expect(text).not.toContain(key.slice(0, 10));
    expect(text).toContain('tb_pro********');
    expect(text).not.toContain('curl');
  });

  it('prints a key the service generated (embedded) in clear, with a curl line', () => {
    const text = apiKeyLines(key, 'generated', 'http://localhost:3000', '/srv/data/api-key').join(
      '\n',
    );
    expect(text).toContain(`API key:  ${key}`);
    expect(text).toContain(`Bearer ${key}`);
    expect(text).toContain('kept in /srv/data/api-key');
  });

  it('prints the embedded key kept from an earlier start masked, naming its file', () => {
    const text = apiKeyLines(key, 'kept', 'http://localhost:3000', '/srv/data/api-key').join('\n');
    expect(text).not.toContain(key.slice(0, 10));
    expect(text).toContain('API key:  tb_pro******** (kept in /srv/data/api-key)');
    expect(text).not.toContain('curl');
  });
});
