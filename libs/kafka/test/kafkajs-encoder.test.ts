import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '@mta/testkit';

const script = join(import.meta.dirname, 'support', 'encode-produce.cjs');
const bundlePatch = join(ROOT, 'services', 'ingest', 'dist', 'kafkajs-patch.cjs');
const run = (...args: string[]) => execFileSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });

test('the patched kafkajs encoder writes the same produce requests, byte for byte, as kafkajs as shipped', () => {
  const plain = run().trim().split('\n');
  const patched = run('patched', bundlePatch).trim().split('\n');
  assert.equal(plain.length, 6);
  assert.equal(patched.length, plain.length);
  for (let i = 0; i < plain.length; i++) assert.ok(patched[i] === plain[i], `output ${i} differs (${patched[i]!.length} vs ${plain[i]!.length} hex chars)`);
});

test('a service bundle puts the exact-size record encoder, the encoder fixes, the one-buffer produce request and framing in place before kafkajs loads', () => {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `require(${JSON.stringify(bundlePatch)});
       const Encoder = require('kafkajs/src/protocol/encoder.js');
       const record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js');
       require('kafkajs');
       const r = record({ key: 'k', value: 'v', headers: {} });
       const produced = Symbol.for('mta.kafkajs.producePatched');
       console.log(Encoder.prototype[Symbol.for('mta.kafkajs.encoderPatched')] === true, record[Symbol.for('mta.kafkajs.encoderPatched')] === true, r instanceof Encoder, r.buffer.toString('hex'),
         require('kafkajs/src/protocol/requests/produce/v3/request.js')[produced] === true, require('kafkajs/src/protocol/request.js')[produced] === true);`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  // length 8 (zig-zag 16), attributes 0, timestamp delta 0, offset delta 0, key "k", value "v", no headers
  assert.equal(out.trim(), 'true true true 10000000026b027600 true true');
});
