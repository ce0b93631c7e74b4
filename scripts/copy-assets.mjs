// tsc copies no non-TypeScript files: bring the Redis scripts next to their compiled loaders, and
// the dashboard's static files (plain HTML, CSS and JavaScript: no front-end build) next to the
// controller that serves them.
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

const dashboard = 'apps/api/src/dashboard/public';
cpSync(dashboard, join('dist', dashboard), { recursive: true });
