#!/usr/bin/env node
// `npm test`: type-check, start a real local Kafka (unless KAFKA_BROKERS names one), run every
// test file with node's test runner, stop the broker. The runner's summary is the last output.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kafkaFromEnvOrStart } from '../deploy/kafka/local-kafka.mjs';
import { warmUpKafka } from './kafka-warm-up.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

const only = process.argv.slice(2);

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (/\.test\.(ts|mjs)$/.test(name)) out.push(relative(root, p));
  }
  return out;
}

const files = (only.length ? only : ['libs', 'services', 'deploy', 'test'].flatMap((d) => findTests(join(root, d)))).sort();

console.log('type-checking (tsc)...');
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('type errors: fix them before the tests run');
  process.exit(1);
}

let quiet = false;
await import('./build.mjs');
const kafka = await kafkaFromEnvOrStart({ log: (m) => quiet || console.log(`[kafka] ${m}`) });
await warmUpKafka(kafka.brokers);
console.log(`[kafka] brokers ${kafka.brokers}; running ${files.length} test files`);
quiet = true; // nothing may print after the runner's summary

const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=1', ...files],
  { stdio: 'inherit', env: { ...process.env, KAFKA_BROKERS: kafka.brokers } },
);
process.on('SIGINT', () => child.kill('SIGINT'));
process.on('SIGTERM', () => child.kill('SIGTERM'));
const code = await new Promise((resolve) => child.on('exit', (c, s) => resolve(c ?? (s ? 1 : 0))));
try {
  await kafka.stop();
} catch {
  /* the broker is killed with the process group anyway */
}
process.exit(code);
