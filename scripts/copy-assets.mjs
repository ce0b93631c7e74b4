// tsc copies no non-TypeScript files: bring the Redis scripts next to their compiled loaders.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function copyLua(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      copyLua(path);
    } else if (name.endsWith('.lua')) {
      cpSync(path, join('dist', path));
    }
  }
}

copyLua('libs');
