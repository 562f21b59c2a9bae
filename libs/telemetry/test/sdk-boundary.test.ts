/** Libraries and services talk to OpenTelemetry through the API only; the SDK is wired in one place. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '@mta/testkit';

/** Files allowed to import OpenTelemetry SDK packages: the entry-point wiring. */
const SDK_WIRING = ['libs/telemetry/src/tracing.ts', 'libs/telemetry/src/metrics.ts'];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (p.endsWith('.ts') && p.includes('/src/')) out.push(relative(ROOT, p));
  }
  return out;
}

test('only the entry-point wiring imports OpenTelemetry SDK packages', () => {
  const files = [...sources(join(ROOT, 'libs')), ...sources(join(ROOT, 'services'))];
  assert.ok(files.includes('libs/kafka/src/stage.ts'), 'the scan sees the sources');
  const offenders: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(join(ROOT, f), 'utf8').matchAll(/from '(@opentelemetry\/[^']+)'/g)) {
      if (m[1] !== '@opentelemetry/api' && !SDK_WIRING.includes(f)) offenders.push(`${f}: ${m[1]}`);
    }
  }
  assert.deepEqual(offenders, []);
});
