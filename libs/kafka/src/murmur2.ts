/**
 * kafkajs's murmur2 (the Java client's key hash, which picks a keyed record's partition) in 32-bit
 * integer arithmetic: kafkajs computes it with its BigInt-backed Long, a few allocations per four
 * bytes of key, for every keyed record produced. Same results (the hash only ever keeps the low
 * 32 bits, which Math.imul and xor give exactly); `kafkajs-patch.test.ts` compares both.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  // The Java switch falls through from 3 to 1.
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) {
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}
