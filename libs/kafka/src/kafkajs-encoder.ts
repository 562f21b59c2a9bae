/**
 * kafkajs 2.2.4's protocol encoder, made cheaper per record from outside (no fork), with the same
 * bytes on the wire (`kafkajs-encoder.test.ts` compares them with kafkajs's own encoder):
 *
 * - `Encoder.prototype` (`patchKafkajsEncoder`): buffers grow with `Buffer.allocUnsafe` instead of
 *   zero-filled `Buffer.alloc` (every byte up to `offset` is written before it is read, and only
 *   `buf.slice(0, offset)` ever leaves the encoder); varints are written in place instead of
 *   through a temporary array and `Buffer.from` each; an array of encoders is copied after one
 *   `ensureAvailable` for all of it instead of growing (and copying) as it goes.
 * - The record encoder (`recordBatch/record/v0`, `patchKafkajsRecordEncoder`): one buffer of the
 *   record's exact size per record instead of a 512-byte encoder grown by copying (to 8 KiB for a
 *   5 KB value) plus one encoder per header and per varint. Records it does not know how to encode
 *   exactly (a non-integer or unsafe timestamp delta, a header value that is neither a string nor
 *   a Buffer...) go to kafkajs's own function, which encodes or rejects them as before.
 *
 * A produced 5 KB record was copied and re-allocated about ten times on its way into a produce
 * request; see docs/performance.md for the measured effect. Without kafkajs at these paths
 * (another version layout) nothing is patched; `MTA_KAFKAJS_ENCODER=kafkajs` leaves kafkajs's own
 * encoder in place (a switch for comparisons, and a way out should a kafkajs upgrade disagree).
 */
import { createRequire } from 'node:module';

interface EncoderLike {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  readonly buffer: Buffer;
}
type EncoderClass = { prototype: Record<string | symbol, unknown>; nextPowerOfTwo(n: number): number };

const PATCHED = Symbol.for('mta.kafkajs.encoderPatched');
const ENCODER = 'kafkajs/src/protocol/encoder.js';
const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';

const disabled = (): boolean => process.env.MTA_KAFKAJS_ENCODER === 'kafkajs';

export function patchKafkajsEncoder(from: string): boolean {
  if (disabled()) return false;
  const req = createRequire(from);
  let Encoder: EncoderClass;
  try {
    Encoder = req(ENCODER) as EncoderClass;
  } catch {
    return false;
  }
  const proto = Encoder.prototype;
  if (proto[PATCHED]) return true;
  const originalVarLong = proto.writeVarLong as (this: EncoderLike, v: unknown) => EncoderLike;
  if (typeof proto.ensureAvailable !== 'function' || typeof originalVarLong !== 'function' || typeof proto.writeEncoderArray !== 'function') return false;

  proto.ensureAvailable = function (this: EncoderLike, length: number) {
    if (this.offset + length > this.buf.length) {
      const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
      this.buf.copy(grown, 0, 0, this.offset);
      this.buf = grown;
    }
  };
  proto.writeUVarInt = function (this: EncoderLike, value: number) {
    this.ensureAvailable(5);
    this.offset = putUVarInt(this.buf, this.offset, value);
    return this;
  };
  proto.writeVarLong = function (this: EncoderLike, value: unknown) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || Math.abs(value) > MAX_VARLONG) return originalVarLong.call(this, value);
    this.ensureAvailable(10);
    this.offset = putVarLong(this.buf, this.offset, value);
    return this;
  };
  proto.writeEncoderArray = function (this: EncoderLike, value: EncoderLike[]) {
    if (!Array.isArray(value) || value.some((v) => v == null || !Buffer.isBuffer(v.buf))) {
      throw new Error('all values should be an instance of Encoder[]');
    }
    let total = 0;
    for (const v of value) total += v.offset;
    this.ensureAvailable(total);
    for (const v of value) {
      v.buf.copy(this.buf, this.offset, 0, v.offset);
      this.offset += v.offset;
    }
    return this;
  };
  proto[PATCHED] = true;
  return true;
}

/** Zig-zag varlongs of numbers are exact below 2^52 (2 × |v| stays a safe integer). */
const MAX_VARLONG = 2 ** 51;

/** kafkajs's writeUVarInt (7 bits a byte, 32-bit semantics), in place; returns the new offset. */
function putUVarInt(buf: Buffer, at: number, value: number): number {
  let v = value;
  while ((v & 0xffffff80) !== 0) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v & 0x7f;
  return at;
}

const zigZag = (v: number): number => (v << 1) ^ (v >> 31);

function sizeOfUVarInt(value: number): number {
  let v = value;
  let n = 1;
  while ((v & 0xffffff80) !== 0) {
    n++;
    v >>>= 7;
  }
  return n;
}

/** kafkajs's writeVarLong for a safe integer below 2^51 (zig-zag, then 7 bits a byte). */
function putVarLong(buf: Buffer, at: number, value: number): number {
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  while (z >= 0x80) {
    buf[at++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  buf[at++] = z;
  return at;
}

function sizeOfVarLong(value: number): number {
  let z = value >= 0 ? value * 2 : -value * 2 - 1;
  let n = 1;
  while (z >= 0x80) {
    n++;
    z = Math.floor(z / 0x80);
  }
  return n;
}

type Bytes = Buffer | string | null | undefined;
interface RecordArgs {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Bytes;
  value?: Bytes;
  headers?: Record<string, Bytes | Bytes[]>;
}

const isBytes = (v: unknown): v is Buffer | string => typeof v === 'string' || Buffer.isBuffer(v);

/**
 * Puts an exact-size record encoder in place of kafkajs's `recordBatch/record/v0` module. Must run
 * before kafkajs loads its produce request v3 (which takes the module at load time): done by
 * dist/kafkajs-patch.cjs in the bundles and when @mta/kafka loads (the request is loaded lazily,
 * at the first produce). Returns false when that already happened or kafkajs is elsewhere.
 */
export function patchKafkajsRecordEncoder(from: string): boolean {
  if (disabled()) return false;
  const req = createRequire(from);
  let path: string;
  let requestPath: string;
  let Encoder: EncoderClass;
  try {
    path = req.resolve(RECORD);
    requestPath = req.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
    Encoder = req(ENCODER) as EncoderClass;
  } catch {
    return false;
  }
  if (req.cache[requestPath]) return false; // the produce request already holds the original
  const original = req(path) as ((args: RecordArgs) => EncoderLike) & { [PATCHED]?: true };
  if (original[PATCHED]) return true;
  const mod = req.cache[path];
  if (!mod) return false;

  const record = (args: RecordArgs): EncoderLike => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = args;
    if (!Number.isSafeInteger(timestampDelta) || Math.abs(timestampDelta) > MAX_VARLONG || !Number.isInteger(offsetDelta) || Math.abs(offsetDelta) >= 2 ** 30) return original(args);
    if (!(key == null || isBytes(key)) || !(value == null || isBytes(value))) return original(args);
    // Headers as kafkajs flattens them: one entry per value of an array.
    const hk: string[] = [];
    const hv: (Buffer | string)[] = [];
    for (const k of Object.keys(headers)) {
      const v = headers[k];
      for (const one of Array.isArray(v) ? v : [v]) {
        if (!isBytes(one)) return original(args);
        hk.push(k);
        hv.push(one);
      }
    }
    const keyLen = key == null ? -1 : Buffer.byteLength(key);
    const valueLen = value == null ? -1 : Buffer.byteLength(value);
    const sized = (len: number) => (len < 0 ? 1 : sizeOfUVarInt(zigZag(len)) + len);
    let body = 1 + sizeOfVarLong(timestampDelta) + sizeOfUVarInt(zigZag(offsetDelta)) + sized(keyLen) + sized(valueLen) + sizeOfUVarInt(zigZag(hk.length));
    const hkLen: number[] = [];
    const hvLen: number[] = [];
    for (let i = 0; i < hk.length; i++) {
      hkLen.push(Buffer.byteLength(hk[i]!));
      hvLen.push(Buffer.byteLength(hv[i]!));
      body += sized(hkLen[i]!) + sized(hvLen[i]!);
    }
    const total = sizeOfUVarInt(zigZag(body)) + body;
    const buf = Buffer.allocUnsafe(total);
    let at = putUVarInt(buf, 0, zigZag(body));
    buf[at++] = 0; // attributes
    at = putVarLong(buf, at, timestampDelta);
    at = putUVarInt(buf, at, zigZag(offsetDelta));
    const put = (b: Buffer | string | null | undefined, len: number) => {
      at = putUVarInt(buf, at, zigZag(len));
      if (len < 0 || b == null) return;
      if (typeof b === 'string') buf.write(b, at, len, 'utf8');
      else b.copy(buf, at);
      at += len;
    };
    put(key, keyLen);
    put(value, valueLen);
    at = putUVarInt(buf, at, zigZag(hk.length));
    for (let i = 0; i < hk.length; i++) {
      put(hk[i], hkLen[i]!);
      put(hv[i], hvLen[i]!);
    }
    if (at !== total) return original(args); // never expected: sizes and writes disagree
    const enc = Object.create(Encoder.prototype as object) as EncoderLike;
    enc.buf = buf;
    enc.offset = total;
    return enc;
  };
  (record as typeof original)[PATCHED] = true;
  mod.exports = record;
  return true;
}
