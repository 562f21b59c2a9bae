/**
 * kafkajs 2.2.4's produce request (v3, which v4–v7 reuse) and request framing, with the same bytes
 * on the wire and far fewer copies (`kafkajs-encoder.test.ts` compares them with kafkajs as
 * shipped).
 *
 * kafkajs nests an encoder per level (record → record array → batch body → batch → bytes →
 * partition → topic array → request → size-prefixed frame), and each level copies everything
 * below it: a produced 5 KB record was copied about eight times, plus the growth copies of each
 * encoder (`_copyActual` was 13–14 % of ingest's and the throttle's CPU). Here:
 *
 * - `patchKafkajsProduceRequest`: the request body is written once into a buffer of its exact
 *   size (the records, as the record encoder built them, copied once), the CRC-32C of each batch
 *   computed in place. Compressed batches and timestamps that are not plain non-negative integers
 *   go to kafkajs's own encoder.
 * - `patchKafkajsRequestFrame`: the frame (size, API key and version, correlation id, client id)
 *   and the payload are written into one buffer of the exact size, one copy of the payload instead
 *   of two. Applies to every request; it must be in place before kafkajs loads its connection
 *   (dist/kafkajs-patch.cjs does that in the service bundles; under tsx it is not applied).
 *
 * `MTA_KAFKAJS_ENCODER=kafkajs` leaves kafkajs as shipped, like the other encoder patches.
 */
import { createRequire } from 'node:module';

interface EncoderLike {
  buf: Buffer;
  offset: number;
}
type LongLike = { getHighBits(): number; getLowBits(): number };
interface LongClass {
  fromValue(v: unknown): LongLike;
}
interface Message {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  timestamp?: unknown;
}
interface PartitionData {
  partition: number;
  messages: Message[];
  firstSequence?: number;
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}
interface ProduceRequest {
  encode(): Promise<EncoderLike>;
}

const PATCHED = Symbol.for('mta.kafkajs.producePatched');
const V3 = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const FRAME = 'kafkajs/src/protocol/request.js';
const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const CRC = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';
const ENCODER = 'kafkajs/src/protocol/encoder.js';
const LONG = 'kafkajs/src/utils/long.js';

const disabled = (): boolean => process.env.MTA_KAFKAJS_ENCODER === 'kafkajs';
const strLen = (s: string | null | undefined): number => (s == null ? 0 : Buffer.byteLength(s, 'utf8'));

/** An Encoder of kafkajs holding exactly `buf` (what `.buffer`, `.size()` and `writeEncoder` read). */
function encoderOf(proto: object, buf: Buffer): EncoderLike {
  const enc = Object.create(proto) as EncoderLike;
  enc.buf = buf;
  enc.offset = buf.length;
  return enc;
}

function putString(buf: Buffer, at: number, s: string | null | undefined): number {
  if (s == null) {
    buf.writeInt16BE(-1, at);
    return at + 2;
  }
  const n = Buffer.byteLength(s, 'utf8');
  buf.writeInt16BE(n, at);
  buf.write(s, at + 2, n, 'utf8');
  return at + 2 + n;
}

/** A non-negative safe integer as kafkajs's writeInt64 writes it (big-endian two's complement). */
function putUInt64(buf: Buffer, at: number, v: number): number {
  buf.writeInt32BE(Math.floor(v / 0x100000000) | 0, at);
  buf.writeInt32BE(v % 0x100000000 | 0, at + 4);
  return at + 8;
}

const plainTimestamp = (t: unknown): boolean => t == null || (typeof t === 'number' && Number.isSafeInteger(t) && t >= 0);

/**
 * Puts the single-buffer produce request encoder in place of kafkajs's produce request v3. Must
 * run after `patchKafkajsRecordEncoder` (the original request takes the record encoder when it
 * loads) and before kafkajs loads v4–v7 (each takes the previous version when it loads): at the
 * first produce at the earliest, so `@mta/kafka` can apply it under tsx too.
 */
export function patchKafkajsProduceRequest(from: string): boolean {
  if (disabled()) return false;
  const req = createRequire(from);
  let path: string;
  let v7: string;
  try {
    path = req.resolve(V3);
    v7 = req.resolve('kafkajs/src/protocol/requests/produce/v7/request.js');
  } catch {
    return false;
  }
  const loaded = req.cache[path];
  if (loaded) return Boolean((loaded.exports as { [PATCHED]?: true })[PATCHED]);
  if (req.cache[v7]) return false;
  let original: (args: ProduceArgs) => ProduceRequest & Record<string, unknown>;
  let recordOf: (args: object) => EncoderLike;
  let Long: LongClass;
  let proto: object;
  try {
    original = req(path) as typeof original;
    recordOf = req(RECORD) as typeof recordOf;
    Long = req(LONG) as LongClass;
    proto = (req(ENCODER) as { prototype: object }).prototype;
  } catch {
    return false;
  }
  const crc32c = (): ((b: Buffer) => number) => req(CRC) as (b: Buffer) => number;

  const fast = (args: ProduceArgs) => {
    const request = original(args);
    const { acks, timeout, transactionalId = null, producerId = -1, producerEpoch = 0, compression = 0, topicData } = args;
    if (compression !== 0) return request;
    for (const t of topicData) for (const p of t.partitions) if (p.messages.length === 0 || !p.messages.every((m) => plainTimestamp(m.timestamp))) return request;
    return { ...request, encode: async () => encodeProduce(topicData, acks, timeout, transactionalId, producerId, producerEpoch) };
  };

  function encodeProduce(topicData: TopicData[], acks: number, timeout: number, transactionalId: string | null, producerId: unknown, producerEpoch: number): EncoderLike {
    const pid = Long.fromValue(producerId);
    const attributes = transactionalId ? 16 : 0;
    // Pass 1: the records (kafkajs's record encoder, one exact-size buffer each) and the sizes.
    let size = 2 + strLen(transactionalId) + 2 + 4 + 4;
    const batches: { records: EncoderLike[]; first: number; max: number; recordBytes: number }[] = [];
    for (const t of topicData) {
      size += 2 + strLen(t.topic) + 4;
      for (const p of t.partitions) {
        // As kafkajs: the sorted (default sort) timestamps that are set, else now.
        const dateNow = Date.now();
        const ts = p.messages.map((m) => m.timestamp as number | null | undefined).filter((x) => x != null).sort();
        const timestamps = ts.length === 0 ? [dateNow] : ts;
        const first = timestamps[0]!;
        const max = timestamps[timestamps.length - 1]!;
        const records = p.messages.map((m, i) => recordOf({ ...m, offsetDelta: i, timestampDelta: ((m.timestamp as number) || dateNow) - first }));
        let recordBytes = 0;
        for (const r of records) recordBytes += r.offset;
        batches.push({ records, first, max, recordBytes });
        // partition, record set size, first offset, batch length, leader epoch, magic, crc,
        // attributes, last offset delta, first and max timestamp, producer id and epoch, first
        // sequence, record count, records
        size += 4 + 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4 + recordBytes;
      }
    }
    // Pass 2: everything written once.
    const buf = Buffer.allocUnsafe(size);
    const crc = crc32c();
    let at = putString(buf, 0, transactionalId);
    at = buf.writeInt16BE(acks, at);
    at = buf.writeInt32BE(timeout, at);
    at = buf.writeInt32BE(topicData.length, at);
    let b = 0;
    for (const t of topicData) {
      at = putString(buf, at, t.topic);
      at = buf.writeInt32BE(t.partitions.length, at);
      for (const p of t.partitions) {
        const { records, first, max, recordBytes } = batches[b++]!;
        const bodyLen = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4 + recordBytes;
        const batchLen = 4 + 1 + 4 + bodyLen;
        at = buf.writeInt32BE(p.partition, at);
        at = buf.writeInt32BE(8 + 4 + batchLen, at);
        at = putUInt64(buf, at, 0); // first offset
        at = buf.writeInt32BE(batchLen, at);
        at = buf.writeInt32BE(0, at); // partition leader epoch
        at = buf.writeInt8(2, at); // magic
        const crcAt = at;
        at += 4;
        const bodyAt = at;
        at = buf.writeInt16BE(attributes, at);
        at = buf.writeInt32BE(records.length - 1, at);
        at = putUInt64(buf, at, first);
        at = putUInt64(buf, at, max);
        at = buf.writeInt32BE(pid.getHighBits(), at);
        at = buf.writeInt32BE(pid.getLowBits(), at);
        at = buf.writeInt16BE(producerEpoch, at);
        at = buf.writeInt32BE(p.firstSequence === undefined ? 0 : p.firstSequence, at);
        at = buf.writeInt32BE(records.length, at);
        for (const r of records) at += r.buf.copy(buf, at, 0, r.offset);
        buf.writeUInt32BE(crc(buf.subarray(bodyAt, at)) >>> 0, crcAt);
      }
    }
    if (at !== size) throw new Error(`produce request encoder: wrote ${at} bytes of ${size}`);
    return encoderOf(proto, buf);
  }

  (fast as unknown as { [PATCHED]: true })[PATCHED] = true;
  req.cache[path]!.exports = fast;
  return true;
}

/**
 * Puts a one-copy request framing in place of kafkajs's `protocol/request.js`. Only before kafkajs
 * loads (its connection takes the module when it loads); returns false otherwise.
 */
export function patchKafkajsRequestFrame(from: string): boolean {
  if (disabled()) return false;
  const req = createRequire(from);
  let path: string;
  let proto: object;
  try {
    path = req.resolve(FRAME);
    proto = (req(ENCODER) as { prototype: object }).prototype;
  } catch {
    return false;
  }
  const loaded = req.cache[path];
  if (loaded) return Boolean((loaded.exports as { [PATCHED]?: true })[PATCHED]);
  req(path);
  const frame = async ({ correlationId, clientId, request }: { correlationId: number; clientId: string | null; request: { apiKey: number; apiVersion: number; encode(): Promise<EncoderLike> | EncoderLike } }) => {
    const payload = await request.encode();
    const head = 2 + 2 + 4 + 2 + strLen(clientId);
    const buf = Buffer.allocUnsafe(4 + head + payload.offset);
    let at = buf.writeInt32BE(head + payload.offset, 0);
    at = buf.writeInt16BE(request.apiKey, at);
    at = buf.writeInt16BE(request.apiVersion, at);
    at = buf.writeInt32BE(correlationId, at);
    at = putString(buf, at, clientId);
    payload.buf.copy(buf, at, 0, payload.offset);
    return encoderOf(proto, buf);
  };
  (frame as unknown as { [PATCHED]: true })[PATCHED] = true;
  req.cache[path]!.exports = frame;
  return true;
}
