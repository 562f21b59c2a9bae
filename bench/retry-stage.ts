/**
 * Release throughput of the retry stage (DelayStage: per-partition pause/resume, commit after
 * produce) against the ordinary Stage as a baseline, both in this invocation on the same broker:
 * N records of ~5 KB, all due, pass through each stage to an output topic.
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 BENCH_MESSAGES=20000 node --import tsx bench/retry-stage.ts
 */
import { randomUUID } from 'node:crypto';
import { DelayStage, Stage, type Handler } from '@mta/kafka';
import { freshTopics, testKafka } from '@mta/testkit';

const N = Number(process.env.BENCH_MESSAGES ?? 20000);
const kafka = testKafka('bench-retry-stage');
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const value = 'x'.repeat(5000);

async function fill(topic: string): Promise<void> {
  const p = kafka.producer();
  await p.connect();
  for (let i = 0; i < N; i += 1000) {
    const n = Math.min(1000, N - i);
    await p.send({ topic, messages: Array.from({ length: n }, (_, j) => ({ key: `m${i + j}`, value, headers: { 'mta-not-before': '0' } })) });
  }
  await p.disconnect();
}

async function countUntil(topic: string, n: number): Promise<void> {
  const c = kafka.consumer({ groupId: `count-${randomUUID()}`, maxWaitTimeInMs: 50 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  await new Promise<void>((resolve) => {
    void c.run({
      eachBatch: async ({ batch }) => {
        seen += batch.messages.length;
        if (seen >= n) resolve();
      },
    });
  });
  await c.disconnect();
}

async function measure(name: string, run: (input: string, output: string) => { start(): Promise<void>; stop(t: number): Promise<void> }): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  const topics = await freshTopics(admin, 6);
  await admin.disconnect();
  await fill(topics.retry2m);
  const stage = run(topics.retry2m, topics.queue);
  const t0 = Date.now();
  const done = countUntil(topics.queue, N);
  await stage.start();
  await done;
  const rate = N / ((Date.now() - t0) / 1000);
  await stage.stop(5000);
  console.log(`[bench] ${name}: ${N} records in ${((N / rate)).toFixed(1)} s = ${rate.toFixed(0)} records/s`);
  return rate;
}

const pass = (output: string): Handler => (rec) => [{ topic: output, key: rec.key?.toString() ?? null, value: rec.value! }];
const baseline = await measure('Stage (baseline)', (input, output) =>
  new Stage({ service: 'bench', kafka, groupId: `b-${randomUUID()}`, topics: [input], deadLetterTopic: output, handle: pass(output), log: silent, maxInFlight: 5000 }),
);
const delay = await measure('DelayStage (all due)', (input, output) =>
  new DelayStage({ service: 'bench', name: 'retry', kafka, groupId: `d-${randomUUID()}`, topics: [input], deadLetterTopic: output, log: silent, notBefore: () => 0, handle: pass(output) }),
);
console.log(`[bench] ratio DelayStage / Stage = ${(delay / baseline).toFixed(2)} (shared 2-core machine; compare ratios, not absolute figures)`);
