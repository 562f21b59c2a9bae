/**
 * How long feedback takes to rebuild its state from mta.status after a start (issue 7 §2). Run
 * with a broker: `KAFKA_BROKERS=127.0.0.1:9092 node scripts/build.mjs && node --import tsx bench/feedback-rebuild.ts [records=200000]`.
 * Writes `records` status records (half `accepted`, half `delivered`, 20 deliveries) to fresh
 * topics, then measures (a) a bare kafkajs consumer reading the topic with JSON.parse, as the
 * baseline, and (b) the feedback bundle from spawn until GET /deliveries answers 200.
 */
import { randomUUID } from 'node:crypto';
import { TOPIC_ENV } from '@mta/config';
import type { StatusRecord, Topics } from '@mta/contracts';
import { freshTopics, startService, testKafka } from '@mta/testkit';

const N = Number(process.argv[2] ?? 200_000);
const kafka = testKafka('bench-rebuild');
const admin = kafka.admin();
await admin.connect();
const topics = await freshTopics(admin, 6);
const producer = kafka.producer();
await producer.connect();
const ts = new Date().toISOString();
for (let i = 0; i < N; i += 10_000) {
  const messages = [];
  for (let j = i; j < Math.min(N, i + 10_000); j++) {
    const m = Math.floor(j / 2);
    const r: StatusRecord = {
      v: 1, messageId: `msg-${m}-${'x'.repeat(24)}`, deliveryId: `d${m % 20}`, recipient: `user${m}@domain${m % 100}.example`,
      status: j % 2 ? 'sent' : 'taken_into_account', event: j % 2 ? 'delivered' : 'accepted', attempt: j % 2, timestamp: ts,
    };
    messages.push({ key: r.messageId, value: JSON.stringify(r) });
  }
  await producer.send({ topic: topics.status, messages });
}
await producer.disconnect();

let t = performance.now();
const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}`, maxBytesPerPartition: 4 * 1024 * 1024 });
await consumer.connect();
await consumer.subscribe({ topic: topics.status, fromBeginning: true });
let seen = 0;
await new Promise<void>((resolve) => {
  void consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) JSON.parse(m.value!.toString());
      seen += batch.messages.length;
      if (seen >= N) resolve();
    },
  });
});
const baseMs = performance.now() - t;
await consumer.disconnect();

const env: Record<string, string> = { KAFKA_BROKERS: process.env.KAFKA_BROKERS!, MTA_GROUP_ID: `bench-fb-${randomUUID()}` };
for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
t = performance.now();
const svc = await startService('feedback', env, 600_000);
while ((await fetch(`http://127.0.0.1:${svc.port}/deliveries`)).status === 503) await new Promise((r) => setTimeout(r, 100));
const fbMs = performance.now() - t;
const ready = (await (await fetch(`http://127.0.0.1:${svc.port}/readyz`)).json()) as { tracked: number };
const total = ((await (await fetch(`http://127.0.0.1:${svc.port}/deliveries`)).json()) as { deliveries: { messages: number }[] }).deliveries.reduce((n, d) => n + d.messages, 0);
await svc.stop();
await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
await admin.disconnect();
console.log(`records: ${N.toLocaleString('en-US')} (messages ${total.toLocaleString('en-US')}, tracked ${ready.tracked.toLocaleString('en-US')})`);
console.log(`baseline kafkajs read + JSON.parse: ${(baseMs / 1000).toFixed(1)} s (${Math.round(N / (baseMs / 1000)).toLocaleString('en-US')} records/s)`);
console.log(`feedback start → KPIs served: ${(fbMs / 1000).toFixed(1)} s (${Math.round(N / (fbMs / 1000)).toLocaleString('en-US')} records/s); ratio to baseline ${(baseMs / fbMs).toFixed(2)}`);
