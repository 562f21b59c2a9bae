/**
 * kafkajs 2.2.4's record decoder (`recordBatch/record/v0/decoder`), cheaper per consumed record,
 * same results (`kafkajs-decoder.test.ts` compares both on a table of records): kafkajs computes
 * each record's timestamp and offset with its BigInt-backed Long (a varlong read 7 bits at a
 * time, two additions, two `toString`s) and builds the headers object by spreading it once per
 * header. Here they are plain numbers while they are safe integers (offsets and timestamps are),
 * with the batch's base offset and timestamp parsed once per batch. Anything else (a delta wider
 * than 49 bits, a header named `__proto__`) is decoded by kafkajs's own function.
 *
 * Put in place like the record encoder (kafkajs-encoder.ts), before kafkajs loads its record batch
 * decoder (with its first fetch), and off with the same `MTA_KAFKAJS_ENCODER=kafkajs`.
 */
import { createRequire } from 'node:module';

interface DecoderLike {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarIntBytes(): Buffer | null;
}
interface BatchContext {
  firstOffset?: string;
  firstTimestamp?: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}
type RecordDecoder = (decoder: DecoderLike, batchContext?: BatchContext) => unknown;

const PATCHED = Symbol.for('mta.kafkajs.recordDecoderPatched');

/** The faster record decoder; `original` decodes what it does not handle. */
export function createRecordDecoder(original: RecordDecoder, header: (d: DecoderLike) => { key: string; value: Buffer | null }, logAppendTime: number): RecordDecoder {
  const bases = new WeakMap<object, { offset: number; timestamp: number } | null>();
  const baseOf = (ctx: BatchContext) => {
    let base = bases.get(ctx);
    if (base === undefined) {
      const offset = Number(ctx.firstOffset);
      const timestamp = Number(ctx.firstTimestamp);
      const exact = typeof ctx.firstOffset === 'string' && typeof ctx.firstTimestamp === 'string' && Number.isSafeInteger(offset) && Number.isSafeInteger(timestamp);
      base = exact ? { offset, timestamp } : null;
      bases.set(ctx, base);
    }
    return base;
  };
  return (decoder, batchContext = {}) => {
    const base = baseOf(batchContext);
    if (base === null) return original(decoder, batchContext);
    const start = decoder.offset;
    const fallback = () => {
      decoder.offset = start;
      return original(decoder, batchContext);
    };
    const { magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
    const attributes = decoder.readInt8();
    // Varlong, zig-zag: at most 7 bytes (49 bits) as a number.
    const buf = decoder.buffer;
    let z = 0;
    let mul = 1;
    let byte: number;
    let n = 0;
    do {
      if (n++ === 7) return fallback();
      byte = buf[decoder.offset++]!;
      z += (byte & 0x7f) * mul;
      mul *= 128;
    } while (byte >= 0x80);
    const timestampDelta = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    const timestamp = timestampType === logAppendTime && maxTimestamp ? maxTimestamp : String(base.timestamp + timestampDelta);
    const offsetDelta = decoder.readVarInt();
    const offsetNumber = base.offset + offsetDelta;
    if (!Number.isSafeInteger(offsetNumber) || !Number.isSafeInteger(base.timestamp + timestampDelta)) return fallback();
    const key = decoder.readVarIntBytes();
    const value = decoder.readVarIntBytes();
    const count = decoder.readVarInt();
    const headers: Record<string, Buffer | null | (Buffer | null)[]> = {};
    for (let i = 0; i < count; i++) {
      const h = header(decoder);
      if (h.key === '__proto__') return fallback();
      const prev = headers[h.key];
      headers[h.key] = prev === undefined ? h.value : Array.isArray(prev) ? prev.concat([h.value]) : [prev, h.value];
    }
    return { magicByte, attributes, timestamp, offset: String(offsetNumber), key, value, headers, isControlRecord: isControlBatch, batchContext };
  };
}

export function patchKafkajsRecordDecoder(from: string): boolean {
  if (process.env.MTA_KAFKAJS_ENCODER === 'kafkajs') return false;
  const req = createRequire(from);
  let path: string;
  let batchPath: string;
  try {
    path = req.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
    batchPath = req.resolve('kafkajs/src/protocol/recordBatch/v0/decoder.js');
  } catch {
    return false;
  }
  if (req.cache[batchPath]) return false; // the batch decoder already holds the original
  const original = req(path) as RecordDecoder & { [PATCHED]?: true };
  if (original[PATCHED]) return true;
  const mod = req.cache[path];
  if (!mod) return false;
  const header = req('kafkajs/src/protocol/recordBatch/header/v0/decoder.js') as (d: DecoderLike) => { key: string; value: Buffer | null };
  const { LOG_APPEND_TIME } = req('kafkajs/src/protocol/timestampTypes.js') as { LOG_APPEND_TIME: number };
  const decoder = createRecordDecoder(original, header, LOG_APPEND_TIME) as RecordDecoder & { [PATCHED]?: true };
  decoder[PATCHED] = true;
  mod.exports = decoder;
  return true;
}
