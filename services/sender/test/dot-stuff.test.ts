import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { dotStuff, nodemailerDataStream, patchDataStream } from '../src/dot-stuff.ts';

type Stream = { inByteCount: number; outByteCount: number; lastByte: number | false; push(b: Buffer): boolean };
type Transform = (this: Stream, chunk: Buffer, enc: string, done: () => void) => void;

const DataStream = (await nodemailerDataStream()) as unknown as { prototype: { _transform: Transform } } & (new () => NodeJS.ReadWriteStream);
assert.ok(DataStream, 'nodemailer DataStream found');
// nodemailer's own transform, taken before any patch (this file runs in its own process).
const original = DataStream.prototype._transform;

/** What nodemailer's transform pushes for these chunks, and what dotStuff gives, as one buffer each. */
function both(chunks: Buffer[]): [Buffer, Buffer] {
  const pushed: Buffer[] = [];
  const state: Stream = { inByteCount: 0, outByteCount: 0, lastByte: false, push: (b) => (pushed.push(Buffer.from(b)), true) };
  for (const c of chunks) original.call(state, c, 'buffer', () => undefined);
  let last: number | false = false;
  const ours: Buffer[] = [];
  for (const c of chunks) {
    if (!c.length) continue;
    ours.push(dotStuff(c, last));
    last = c[c.length - 1]!;
  }
  return [Buffer.concat(pushed), Buffer.concat(ours)];
}

const samples = [
  '',
  '.',
  '..',
  '.\r\n',
  'a\r\n.b\r\n..\r\n.',
  'line\n.dot after bare LF\n',
  'bare CR\r.dot\rx\r\r\n\n\r',
  '\r',
  '\n',
  '\r\n',
  '\n\r',
  '\r\r..\n\n..',
  'Subject: x\r\n\r\nLorem ipsum dolor sit amet. Consectetur.\r\n.\r\n..\r\nend',
  'no line breaks at all, just dots . . . .',
  'ü\r\n.ü\rü\nü.',
];

test('dotStuff gives what nodemailer DataStream gives, chunk by chunk: a table of edge cases, whole and cut at every position', () => {
  for (const s of samples) {
    const b = Buffer.from(s);
    const [theirs, ours] = both([b]);
    assert.equal(ours.toString('hex'), theirs.toString('hex'), JSON.stringify(s));
    for (let cut = 0; cut <= b.length; cut++) {
      const [t2, o2] = both([b.subarray(0, cut), b.subarray(cut)]);
      assert.equal(o2.toString('hex'), t2.toString('hex'), `${JSON.stringify(s)} cut at ${cut}`);
    }
  }
});

test('dotStuff gives what nodemailer gives on random text of CR, LF, dots and letters in random chunks (fixed seed)', () => {
  let seed = 12345;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  const alphabet = [0x0d, 0x0a, 0x2e, 0x61, 0x20, 0xc3, 0xbc];
  for (let round = 0; round < 2000; round++) {
    const b = Buffer.from(Array.from({ length: rnd(200) }, () => alphabet[rnd(alphabet.length)]!));
    const chunks: Buffer[] = [];
    for (let at = 0; at < b.length; ) {
      const n = 1 + rnd(40);
      chunks.push(b.subarray(at, at + n));
      at += n;
    }
    const [theirs, ours] = both(chunks);
    assert.equal(ours.toString('hex'), theirs.toString('hex'), `round ${round}: ${b.toString('hex')}`);
  }
});

test('dotStuff returns the chunk itself when nothing is inserted (CRLF text without leading dots)', () => {
  const b = Buffer.from('Subject: x\r\n\r\nHello. World.\r\n');
  assert.equal(dotStuff(b, false), b);
});

test('patchDataStream puts it in nodemailer: a whole message through the patched DataStream, byte counts included', async () => {
  const message = Buffer.from('From: a@b.example\r\nSubject: t\r\n\r\n.leading dot\nbare LF\rbare CR\r\n..two\r\nlast line');
  const run = async () => {
    const s = new DataStream() as unknown as NodeJS.ReadWriteStream & Stream;
    const out: Buffer[] = [];
    s.on('data', (c: Buffer) => out.push(c));
    const ended = new Promise((r) => s.on('end', r));
    Readable.from([message.subarray(0, 20), message.subarray(20, 37), message.subarray(37)]).pipe(s);
    await ended;
    return { bytes: Buffer.concat(out).toString(), counts: [s.inByteCount, s.outByteCount] };
  };
  const before = await run();
  assert.equal(await patchDataStream(), true);
  assert.notEqual(DataStream.prototype._transform, original);
  const after = await run();
  assert.deepEqual(after, before);
  assert.ok(before.bytes.endsWith('last line\r\n.\r\n') && before.bytes.includes('\r\n..leading dot\r\nbare LF\r\nbare CR\r\n...two'));
});
