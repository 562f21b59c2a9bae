// Joins one consumer group and commits once, so the broker's group coordinator (and its
// __consumer_offsets topic) is loaded before the tests start. On a broker that has just started,
// the first groups otherwise meet "coordinator loading" errors, fail their commits, rejoin and
// replay records: correct at-least-once behaviour, but tests that count what a stage did then see
// a record handled twice.
import { Kafka, logLevel } from 'kafkajs';

export async function warmUpKafka(brokers, topic = 'mta.requests', timeoutMs = 60000) {
  const kafka = new Kafka({ clientId: 'mta-test-warm-up', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: 'mta-test-warm-up' });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
    await consumer.run({ eachMessage: async () => {} });
    await Promise.race([joined, new Promise((_, reject) => setTimeout(() => reject(new Error(`warm-up group did not join within ${timeoutMs} ms`)), timeoutMs).unref())]);
    await consumer.commitOffsets([{ topic, partition: 0, offset: '0' }]);
  } finally {
    await consumer.disconnect();
  }
}
