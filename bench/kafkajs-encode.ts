/**
 * CPU per record of kafkajs's produce encoding alone (no broker, no socket): the v3 produce
 * request of batches of 5 KB records with a traceparent header, framed as kafkajs sends it, with
 * kafkajs as shipped and with libs/kafka/src/kafkajs-encoder.ts, each in its own child process,
 * alternating (CPU time of the child, user + system, GC included).
 *
 *   node --import tsx bench/kafkajs-encode.ts            (ENCODE_RECORDS=200000 ENCODE_BATCH=500 ENCODE_ROUNDS=3)
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '@mta/testkit';

const RECORDS = Number(process.env.ENCODE_RECORDS ?? 200_000);
const BATCH = Number(process.env.ENCODE_BATCH ?? 500);
const ROUNDS = Number(process.env.ENCODE_ROUNDS ?? 3);

const child = `
  const [mode, records, batch, patch] = process.argv.slice(1);
  if (mode === 'patched') require(patch);
  const produce = require('kafkajs/src/protocol/requests/produce/v3/request.js');
  const frame = require('kafkajs/src/protocol/request.js');
  const body = JSON.stringify({ v: 1, messageId: 'bench-x-1', text: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(88) });
  const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  (async () => {
    const run = async (n) => {
      for (let done = 0; done < n; done += +batch) {
        const messages = [];
        for (let i = 0; i < +batch; i++) messages.push({ key: 'd' + (i % 20) + '.bench.test', value: Buffer.from(body), headers, timestamp: Date.now() });
        const topicData = [{ topic: 'mta.queue', partitions: [0, 1, 2, 3, 4, 5].map((p) => ({ partition: p, messages: messages.slice(p * batch / 6, (p + 1) * batch / 6) })) }];
        const request = produce({ acks: -1, timeout: 30000, compression: 0, topicData, transactionalId: null, producerId: -1, producerEpoch: 0 });
        await frame({ correlationId: 1, clientId: 'bench', request: { apiKey: 0, apiVersion: 3, encode: () => request.encode() } });
      }
    };
    await run(20000); // warm-up
    const c0 = process.cpuUsage();
    await run(+records);
    const c = process.cpuUsage(c0);
    console.log(((c.user + c.system) / +records).toFixed(2));
  })();`;

const patch = join(ROOT, 'services', 'ingest', 'dist', 'kafkajs-patch.cjs');
const results: Record<string, number[]> = { kafkajs: [], patched: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of ['kafkajs', 'patched'] as const) {
    const out = execFileSync(process.execPath, ['-e', child, mode, String(RECORDS), String(BATCH), patch], { cwd: ROOT, encoding: 'utf8' });
    results[mode]!.push(Number(out.trim()));
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [mode, xs] of Object.entries(results)) console.log(`${mode.padEnd(8)} µs CPU per 5 KB record: ${xs.join(', ')} (median ${median(xs)})`);
console.log(`patched / kafkajs: ${(median(results.patched!) / median(results.kafkajs!)).toFixed(2)}`);
