import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';
import { DEFAULT_TOPICS, type Topics } from '@mta/contracts';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

/** The real broker the test run started (scripts/test.mjs) or the one KAFKA_BROKERS names. */
export function testBrokers(): string[] {
  const b = process.env.KAFKA_BROKERS;
  if (!b) throw new Error('KAFKA_BROKERS is not set: run the tests with `npm test`, which starts a local Kafka');
  return b.split(',');
}

export function testKafka(clientId = 'mta-test'): Kafka {
  return new Kafka({ clientId, brokers: testBrokers(), logLevel: logLevel.NOTHING });
}

/** A fresh set of topic names for one test, so tests never see each other's records. */
export async function freshTopics(admin: Admin, partitions = 3): Promise<Topics> {
  const suffix = randomUUID().slice(0, 8);
  const topics = {} as Topics;
  for (const [id, name] of Object.entries(DEFAULT_TOPICS)) topics[id as keyof Topics] = `${name}.${suffix}`;
  const names = Object.values(topics);
  try {
    await admin.createTopics({
      waitForLeaders: false,
      timeout: 30000,
      topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: '16777216' }] })),
    });
  } catch (err) {
    // On a busy machine the controller may answer after the request timed out: the topics are
    // then created anyway, which the metadata poll below sees; anything else is a real failure.
    const type = (err as { type?: string; errors?: { type?: string }[] }).errors?.[0]?.type ?? (err as { type?: string }).type;
    if (type !== 'REQUEST_TIMED_OUT' && type !== 'TOPIC_ALREADY_EXISTS') throw err;
  }
  // kafkajs's own waitForLeaders can surface a transient UNKNOWN_TOPIC_OR_PARTITION: poll instead.
  const deadline = Date.now() + 30000;
  for (;;) {
    try {
      const md = await admin.fetchTopicMetadata({ topics: names });
      if (md.topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))) return topics;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${names.join(', ')} have no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What most integration tests set up first: a client, a connected admin and producer, fresh topics. */
export interface KafkaFixture {
  kafka: Kafka;
  admin: Admin;
  producer: Producer;
  topics: Topics;
  /** Disconnects the producer, deletes the topics (best effort) and disconnects the admin. */
  close(): Promise<void>;
}

export async function kafkaFixture(clientId: string, partitions = 3): Promise<KafkaFixture> {
  const kafka = testKafka(clientId);
  const admin = kafka.admin();
  await admin.connect();
  const topics = await freshTopics(admin, partitions);
  const producer = kafka.producer();
  await producer.connect();
  return {
    kafka,
    admin,
    producer,
    topics,
    close: async () => {
      await producer.disconnect();
      await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

export interface Collected<T> {
  records: { key: string | null; value: T; partition: number; offset: string }[];
  stop(): Promise<void>;
  /** Resolves when `predicate` holds over everything collected so far. */
  until(predicate: (records: T[]) => boolean, timeoutMs?: number): Promise<T[]>;
}

/** Reads a topic from the beginning into memory (JSON values). */
export async function collect<T = unknown>(kafka: Kafka, topic: string): Promise<Collected<T>> {
  const consumer: Consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const records: Collected<T>['records'] = [];
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      records.push({ key: message.key?.toString() ?? null, value: JSON.parse(message.value!.toString()) as T, partition, offset: message.offset });
    },
  });
  return {
    records,
    stop: () => consumer.disconnect(),
    async until(predicate, timeoutMs = 30000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const values = records.map((r) => r.value);
        if (predicate(values)) return values;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms on ${topic}; collected ${values.length}: ${JSON.stringify(values.slice(-5)).slice(0, 2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
