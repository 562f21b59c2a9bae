import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { ROOT } from '@mta/testkit';
import { crc32c } from '../src/crc32c.ts';
import { fastCrc32c, patchKafkajsIdleLoop } from '../src/kafkajs-patch.ts';

const require = createRequire(import.meta.url);
const kafkajsCrc = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (b: Buffer) => number;

const native = fastCrc32c(import.meta.url);
for (const [name, crc] of [['crc32c.ts (slicing-by-8)', crc32c], ['@node-rs/crc32 (native)', native]] as const) {
  test(`${name}: the standard check value and the same result as kafkajs for every length and content`, () => {
    assert.equal(crc(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc(Buffer.alloc(0)), 0);
    for (let len = 0; len < 70; len++) {
      const b = randomBytes(len);
      assert.equal(crc(b), kafkajsCrc(b), `length ${len}`);
    }
    for (const len of [511, 4096, 5163, 65_537, 1_000_003]) {
      const b = randomBytes(len);
      assert.equal(crc(b), kafkajsCrc(b), `length ${len}`);
      assert.equal(crc(b.subarray(3, len - 2)), kafkajsCrc(b.subarray(3, len - 2)), `unaligned view of ${len}`);
    }
  });
}

test('the native CRC-32C is the one in use on this platform (linux-x64: a prebuilt binary exists)', () => {
  assert.equal(native.name, 'crc32cNative');
});

test('a service bundle loads the faster crc32c into kafkajs before kafkajs loads', () => {
  // dist/kafkajs-patch.cjs is what every bundle imports first (scripts/build.mjs).
  const out = execFileSync(
    process.execPath,
    ['-e', "require('./services/ingest/dist/kafkajs-patch.cjs'); const f = require('kafkajs/src/protocol/recordBatch/crc32C/index.js'); const { Kafka } = require('kafkajs'); console.log(f.name, typeof Kafka, f(Buffer.from('123456789')))"],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(out.trim(), `crc32cNative function ${0xe3069283}`);
});

test('the e2e benchmark\'s own kafkajs clients get the same patches as the services (bench/kafkajs-patched.ts, imported first)', () => {
  const script = [
    "await import('./bench/kafkajs-patched.ts');",
    "const { createRequire } = await import('node:module');",
    "const req = createRequire(process.cwd() + '/bench/e2e.ts');",
    "const { Kafka } = await import('kafkajs');",
    "const crc = req('kafkajs/src/protocol/recordBatch/crc32C/index.js');",
    "const produce = req('kafkajs/src/protocol/requests/produce/v3/request.js');",
    "console.log(crc.name, typeof Kafka, Boolean(produce[Symbol.for('mta.kafkajs.producePatched')]));",
  ].join(' ');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(out.trim(), 'crc32cNative function true');
});

test('kafkajs request queues arm their pending-requests timer only while requests wait (no idle 0 ms loop)', () => {
  assert.equal(patchKafkajsIdleLoop(import.meta.url), true);
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as new (o: object) => {
    pending: unknown[];
    throttleCheckTimeoutId: NodeJS.Timeout | null | undefined;
    scheduleCheckPendingRequests(): void;
    destroy(): void;
  };
  const logger = { debug() {}, info() {}, warn() {}, error() {} };
  const q = new RequestQueue({ instrumentationEmitter: null, maxInFlightRequests: 1, requestTimeout: 30000, enforceRequestTimeout: false, clientId: 't', broker: 'b', logger, isConnected: () => true });
  q.scheduleCheckPendingRequests();
  assert.ok(!q.throttleCheckTimeoutId, 'nothing pending: no timer');
  q.pending.push({});
  q.scheduleCheckPendingRequests();
  assert.ok(q.throttleCheckTimeoutId, 'a request waits: the timer is armed');
  q.pending.length = 0;
  q.destroy();
});

test('murmur2: the same hashes (hence partitions) as kafkajs for strings and buffers of every length', async () => {
  const { murmur2 } = await import('../src/murmur2.ts');
  const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (k: Buffer | string) => number;
  for (let n = 0; n < 3000; n++) {
    const b = randomBytes(n % 70);
    for (const key of [b, b.toString('hex').slice(0, n % 50), `bench-${n}`, `d${n % 20}.bench.test`]) assert.equal(murmur2(key), kafkajsMurmur2(key), String(key));
  }
});

test('a service bundle puts the integer murmur2 in kafkajs before kafkajs loads, and its default partitioner uses it', () => {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `require('./services/ingest/dist/kafkajs-patch.cjs');
       const { Partitioners } = require('kafkajs');
       const h = require('kafkajs/src/producer/partitioners/default/murmur2.js');
       const p = Partitioners.DefaultPartitioner();
       const partitionMetadata = Array.from({ length: 6 }, (_, i) => ({ partitionId: i, leader: 0 }));
       console.log(h.name, p({ topic: 't', partitionMetadata, message: { key: 'bench-abc-1' } }));`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (k: string) => number;
  assert.equal(out.trim(), `murmur2 ${(kafkajsMurmur2('bench-abc-1') & 0x7fffffff) % 6}`);
});
