import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPIC_ENV } from '@mta/config';
import type { MtaEvent, QueuedMessage, Topics } from '@mta/contracts';
import { collect, freshTopics, startService, testKafka } from '@mta/testkit';

/**
 * Issue 2 §6: a repeated request with the same messageId is not sent twice while the first is
 * still known, across a restart. A second ingest reading the requests topic again from the start
 * (what Kafka replays after a crash between produce and commit; a new group id makes it replay
 * everything) must recognise the request the first one accepted: its window is rebuilt from the
 * `accepted` events on mta.events before it handles any request.
 */
test('ingest remembers accepted messageIds across a restart (dedupe window rebuilt from Kafka)', async () => {
  const kafka = testKafka();
  const admin = kafka.admin();
  await admin.connect();
  const topics: Topics = await freshTopics(admin, 1);
  const env: Record<string, string> = { KAFKA_BROKERS: process.env.KAFKA_BROKERS! };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  const producer = kafka.producer();
  await producer.connect();
  const events = await collect<MtaEvent>(kafka, topics.events);
  const queue = await collect<QueuedMessage>(kafka, topics.queue);
  const request = (messageId: string) => ({ key: messageId, value: JSON.stringify({ messageId, deliveryId: 'd1', from: 'news@brand.example', to: 'user@example.com', subject: 'Hi', text: 'Hello' }) });
  const a = `a-${randomUUID()}`;
  const b = `b-${randomUUID()}`;
  const accepted = (id: string) => (es: MtaEvent[]) => es.filter((e) => e.messageId === id && e.event === 'accepted').length;
  try {
    const first = await startService('ingest', { ...env, MTA_GROUP_ID: `dedupe-1-${randomUUID()}` });
    await producer.send({ topic: topics.requests, messages: [request(a)] });
    await events.until((es) => accepted(a)(es) === 1);
    assert.equal(await first.stop(), 0);

    // The restart: a fresh instance that reads request A again, then request B.
    const second = await startService('ingest', { ...env, MTA_GROUP_ID: `dedupe-2-${randomUUID()}`, LOG_LEVEL: 'info' });
    try {
      await producer.send({ topic: topics.requests, messages: [request(b)] });
      // One partition: A's replay (offset 0) is handled before B (offset 1), so once B is out, A was seen.
      await events.until((es) => accepted(b)(es) === 1);
      await queue.until((qs) => qs.some((q) => q.messageId === b));
      assert.equal(accepted(a)(events.records.map((r) => r.value)), 1, 'A is accepted once, not again after the restart');
      assert.equal(queue.records.filter((r) => r.value.messageId === a).length, 1, 'A is queued for sending once');
      const metrics = await (await fetch(`http://127.0.0.1:${second.port}/metrics`)).text();
      // Each time ingest reads A again it counts a duplicate: once for the restart's replay, and
      // once more per rejoin of its group before it committed A (Kafka is at least once).
      const joins = second.output.join('').split('"msg":"joined consumer group"').length - 1;
      const duplicates = Number(/^mta_ingest_duplicates(?:_total)?(?:\{[^}]*\})? (\d+)$/m.exec(metrics)?.[1]);
      assert.ok(joins >= 1, 'the second instance joined its group');
      if (joins === 1) assert.equal(duplicates, 1, 'the replay counts as a duplicate');
      else assert.ok(duplicates >= 1 && duplicates <= joins, `the replay counts as a duplicate (${duplicates}, ${joins} joins)`);
      assert.match(second.output.join(''), /dedupe window rebuilt from Kafka/);
    } finally {
      await second.stop();
    }
  } finally {
    await events.stop();
    await queue.stop();
    await producer.disconnect();
    await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
    await admin.disconnect();
  }
});
