// Writes generated/<name>.json for every dashboard: `npm run generate -w dashboards`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dashboards, render } from './index.js';

const out = join(import.meta.dirname, '../generated');
mkdirSync(out, { recursive: true });
for (const [name, build] of Object.entries(dashboards)) {
  writeFileSync(join(out, `${name}.json`), render(build));
  console.log(`wrote generated/${name}.json`);
}
