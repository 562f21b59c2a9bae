// Writes schemas/*.schema.json from the TypeBox contracts: `npm run schemas -w @mta/feedback`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderSchemas } from './json-schemas.ts';

const dir = fileURLToPath(new URL('../../../schemas/', import.meta.url));
mkdirSync(dir, { recursive: true });
for (const [file, text] of renderSchemas()) {
  writeFileSync(dir + file, text);
  console.log(`wrote schemas/${file}`);
}
