// Encodes a fixed set of produce requests with kafkajs (v3 request + request framing) and prints
// them as hex, one per line. `node encode-produce.cjs patched` applies kafkajs-encoder.ts first
// (through a service bundle's dist/kafkajs-patch.cjs); without an argument kafkajs runs as shipped.
if (process.argv[2] === 'patched') require(process.argv[3]);
const produce = require('kafkajs/src/protocol/requests/produce/v3/request.js');
const frame = require('kafkajs/src/protocol/request.js');
const Encoder = require('kafkajs/src/protocol/encoder.js');

const t0 = 1_764_400_000_000;
const long = 'Lorem ipsum dolor sit amet, '.repeat(200);
const messages = [
  { key: 'k1', value: 'v1', timestamp: t0 },
  { key: null, value: null, timestamp: t0 + 1 },
  { key: Buffer.from([0, 1, 2, 255]), value: Buffer.alloc(0), timestamp: t0 - 5 },
  { key: 'dom.example', value: long, headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, timestamp: t0 + 100_000 },
  { key: 'ünïcödé', value: '日本語'.repeat(500), headers: { a: ['x', Buffer.from('y')], 'é': '' }, timestamp: t0 + 2 ** 33 },
  { key: 'big', value: Buffer.alloc(70_000, 7), timestamp: t0 + 3 },
  { value: 'no key, no timestamp delta', timestamp: t0 },
];
const requests = [
  [{ topic: 't1', partitions: [{ partition: 0, messages }] }],
  [
    { topic: 'a', partitions: [{ partition: 0, messages: messages.slice(0, 3) }, { partition: 5, messages: messages.slice(3) }] },
    { topic: 'b', partitions: [{ partition: 1, messages: Array.from({ length: 300 }, (_, i) => ({ key: `m${i}`, value: long.slice(0, i * 17), timestamp: t0 + i * 7 })) }] },
  ],
];

// Transactional and idempotent fields, a timestamp given as a string (kafkajs's own encoder takes
// that one), and a compressed batch (kafkajs's own encoder as well).
const Long = require('kafkajs/src/utils/long.js');
const variants = [
  ...requests.map((topicData) => ({ topicData, transactionalId: null, producerId: -1, producerEpoch: 0, compression: 0 })),
  { topicData: [{ topic: 'tx', partitions: [{ partition: 3, firstSequence: 7, messages: messages.slice(0, 4) }, { partition: 4, firstSequence: 0, messages: messages.slice(4) }] }], transactionalId: 'tx-ünï', producerId: Long.fromValue('81985529216486895'), producerEpoch: 3, compression: 0 },
  { topicData: [{ topic: 's', partitions: [{ partition: 0, messages: [{ key: 'a', value: 'b', timestamp: String(t0) }, { key: 'c', value: 'd', timestamp: t0 + 9 }] }] }], transactionalId: null, producerId: -1, producerEpoch: 0, compression: 0 },
  { topicData: [{ topic: 'z', partitions: [{ partition: 2, messages: messages.slice(0, 5) }] }], transactionalId: null, producerId: -1, producerEpoch: 0, compression: 1 },
];

(async () => {
  for (const { topicData, ...rest } of variants) {
    const request = produce({ acks: -1, timeout: 30000, topicData, ...rest });
    const framed = await frame({ correlationId: 42, clientId: 'enc-test', request: { apiKey: 0, apiVersion: 3, encode: () => request.encode() } });
    console.log(framed.buffer.toString('hex'));
  }
  // Varints and varlongs at their edges, through the encoder itself.
  const e = new Encoder();
  for (const v of [0, 1, -1, 63, 64, -64, -65, 127, 128, 8191, 8192, 2 ** 20, -(2 ** 20), 2 ** 30 - 1, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)]) e.writeVarInt(v);
  for (const v of [0, 1, -1, 127, 128, 2 ** 31, -(2 ** 31), 2 ** 40 + 5, -(2 ** 40) - 5, 2 ** 51, -(2 ** 51), 2 ** 52, Number.MAX_SAFE_INTEGER, '12345678901']) e.writeVarLong(v);
  e.writeEncoderArray([new Encoder().writeInt32(7), new Encoder().writeString('x'.repeat(1000))]);
  console.log(e.buffer.toString('hex'));
})();
