import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { ROOT } from '@mta/testkit';
import { createRecordDecoder } from '../src/kafkajs-decoder.ts';

// Nothing of @mta/kafka's client is loaded here: these are kafkajs's modules as shipped.
const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => { readVarIntBytes(): Buffer; offset: number; buffer: Buffer };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: object) => { buffer: Buffer };
const original = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
const header = require('kafkajs/src/protocol/recordBatch/header/v0/decoder.js');
let fallbacks = 0;
const fast = createRecordDecoder((...args: Parameters<typeof original>) => (fallbacks++, original(...args)), header, 1);

test('the record decoder gives what kafkajs gives, record by record', () => {
  const long = Buffer.alloc(6000, 'x');
  const records = [
    { key: 'k', value: 'v' },
    { key: null, value: null, offsetDelta: 7 },
    { key: 'dom', value: long, timestampDelta: 123456, offsetDelta: 499, headers: { traceparent: '00-abc-def-01' } },
    { key: 'h', value: 'v', headers: { a: ['x', 'y', 'z'], b: 'one', c: Buffer.from([0, 255]) } },
    { key: 'neg', value: 'v', timestampDelta: -5000 },
    { key: 'wide', value: 'v', timestampDelta: 2 ** 50 },
    { key: 'proto', value: 'v', headers: JSON.parse('{"__proto__":"x","ok":"y"}') as object },
  ];
  const contexts = [
    { firstOffset: '1234567', firstTimestamp: '1764400000000', magicByte: 2, isControlBatch: false, timestampType: 0, maxTimestamp: '1764400009999' },
    { firstOffset: '0', firstTimestamp: '-1', magicByte: 2, timestampType: 0, maxTimestamp: '-1' },
    { firstOffset: '42', firstTimestamp: '1764400000000', magicByte: 2, isControlBatch: true, timestampType: 1, maxTimestamp: '1764400009999' },
    { firstOffset: '9223372036854775000', firstTimestamp: '1764400000000', magicByte: 2, timestampType: 0, maxTimestamp: '1' },
  ];
  for (const ctx of contexts) {
    for (const r of records) {
      const bytes = Record(r).buffer;
      const body = () => new Decoder(bytes).readVarIntBytes();
      const a = new Decoder(body());
      const b = new Decoder(body());
      assert.deepStrictEqual(fast(b as never, ctx), original(a, ctx), `${JSON.stringify(r).slice(0, 60)} in ${JSON.stringify(ctx)}`);
      assert.equal(b.offset, a.offset);
    }
  }
  // kafkajs's own function decoded only the wide delta and the __proto__ header (3 usable contexts), and the unsafe base offset (7).
  assert.equal(fallbacks, 3 * 2 + records.length);
});

test('a service bundle puts the record decoder in place before kafkajs loads', () => {
  const out = execFileSync(
    process.execPath,
    ['-e', "require('./services/ingest/dist/kafkajs-patch.cjs'); require('kafkajs'); const d = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js'); console.log(d[Symbol.for('mta.kafkajs.recordDecoderPatched')] === true)"],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(out.trim(), 'true');
});
