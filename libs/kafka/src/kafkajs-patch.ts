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

export function patchKafkajsCrc32c(from: string): boolean {
  const req = createRequire(from);
  let path: string;
  try {
    path = req.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
  } catch {
    return false;
  }
  if (req.cache[path]) return false; // kafkajs already loaded it
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = crc32c;
  req.cache[path] = m;
  return true;
}
