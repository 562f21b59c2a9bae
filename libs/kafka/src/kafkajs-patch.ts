/**
 * Two fixes to kafkajs 2.2.4 internals, applied from outside (no fork):
 *
 * 1. `patchKafkajsIdleLoop`: every connection's RequestQueue re-arms a 0 ms timer forever when
 *    nothing is pending (`scheduleCheckPendingRequests` with a negative delay; kafkajs issue
 *    #1556, unmerged fix PR #1667): ~50 ms of CPU per second per idle service here. The timer is
 *    only needed while requests wait (in-flight limit or broker throttling), so it is armed then.
 * 2. `patchKafkajsCrc32c`, below.
 * 3. `patchKafkajsMurmur2`, below.
 */
const PATCHED = Symbol.for('mta.kafkajs.idleLoopPatched');

export function patchKafkajsIdleLoop(from: string): boolean {
  const req = createRequire(from);
  let RequestQueue: { prototype: Record<string | symbol, unknown> };
  try {
    RequestQueue = req('kafkajs/src/network/requestQueue/index.js') as typeof RequestQueue;
  } catch {
    return false;
  }
  const proto = RequestQueue.prototype;
  if (proto[PATCHED]) return true;
  const original = proto.scheduleCheckPendingRequests as (this: { pending: unknown[] }) => void;
  if (typeof original !== 'function') return false;
  proto.scheduleCheckPendingRequests = function (this: { pending: unknown[] }) {
    if (this.pending.length === 0) return; // nothing waits: no timer (push() schedules when one does)
    original.call(this);
  };
  proto[PATCHED] = true;
  return true;
}

/**
 * Loaded before kafkajs in every service bundle (scripts/build.mjs emits it as
 * dist/kafkajs-patch.cjs and the bundle's first import): kafkajs computes the CRC-32C of every
 * record batch it produces byte by byte in JS; this puts the slicing-by-8 version (crc32c.ts, same
 * results) in its place by pre-seeding Node's module cache for kafkajs's crc32C module. The broker
 * verifies each batch's CRC, so a wrong checksum could not go unnoticed (CORRUPT_MESSAGE).
 * Without kafkajs at that path (another version layout) it does nothing.
 */
import { createRequire, Module } from 'node:module';
import { crc32c } from './crc32c.ts';
import { murmur2 } from './murmur2.ts';

export function patchKafkajsCrc32c(from: string): boolean {
  return preload(from, 'kafkajs/src/protocol/recordBatch/crc32C/index.js', fastCrc32c(from));
}

/**
 * The fastest CRC-32C at hand: @node-rs/crc32's (native, SSE4.2/SIMD: ~1.9 µs for 5 KB against
 * ~9 µs for slicing-by-8 here) when its prebuilt binary loads and gives the standard check
 * value, else crc32c.ts. `MTA_KAFKAJS_CRC=js` forces crc32c.ts.
 */
export function fastCrc32c(from: string): (buf: Uint8Array) => number {
  if (process.env.MTA_KAFKAJS_CRC !== 'js') {
    try {
      const native = (createRequire(from)('@node-rs/crc32') as { crc32c(b: Uint8Array): number }).crc32c;
      if (native(Buffer.from('123456789')) === 0xe3069283) {
        return function crc32cNative(buf: Uint8Array): number {
          return native(buf);
        };
      }
    } catch {
      // no prebuilt binary for this platform: the JS one
    }
  }
  return crc32c;
}

/**
 * Same way, before kafkajs loads: the integer murmur2 (murmur2.ts, same results) in place of
 * kafkajs's Long-based one, which its default (Java-compatible) partitioner runs on the key of
 * every keyed record produced (~5 µs a key, eight keyed records per message in the pipeline).
 */
export function patchKafkajsMurmur2(from: string): boolean {
  return preload(from, 'kafkajs/src/producer/partitioners/default/murmur2.js', murmur2);
}

/** Puts `exports` in Node's module cache as the kafkajs module `id`, unless it is loaded already. */
function preload(from: string, id: string, exports: unknown): boolean {
  const req = createRequire(from);
  let path: string;
  try {
    path = req.resolve(id);
  } catch {
    return false;
  }
  const loaded = req.cache[path];
  if (loaded) return loaded.exports === exports; // kafkajs already loaded it
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = exports;
  req.cache[path] = m;
  return true;
}

/**
 * kafkajs's default partitioner with the integer murmur2, for producers of processes where
 * kafkajs was loaded before `patchKafkajsMurmur2` could run (tsx benches): same partitions.
 */
export function fastDefaultPartitioner(from: string): (() => unknown) | undefined {
  try {
    const create = createRequire(from)('kafkajs/src/producer/partitioners/legacy/partitioner.js') as (hash: typeof murmur2) => () => unknown;
    return create(murmur2);
  } catch {
    return undefined;
  }
}
