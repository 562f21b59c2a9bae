// Starts a real KRaft broker (deploy/kafka/local-kafka.mjs) on free ports, checks the topics of
// deploy/topics.json, round-trips one record with kafkajs, and checks that stop() cleans up.
// Run: node --test deploy/kafka/local-kafka.test.mjs   (needs Java 17+; Maven on the first run)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { brokerJvmOpts, startKafka, loadDefaultTopics } from './local-kafka.mjs';

const { Kafka, logLevel } = kafkajs;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code !== 'ESRCH';
  }
}

// Generous timeout: the very first run also downloads ~43 MB of jars with Maven.
test('local KRaft broker: topics, produce/consume, clean stop', { timeout: 240_000 }, async (t) => {
  const started = Date.now();
  const kafka = await startKafka({ log: (m) => t.diagnostic(m) });
  t.diagnostic(`ready in ${Date.now() - started} ms on ${kafka.brokers}`);
  const { pid, dataDir } = kafka;
  try {
    assert.match(kafka.brokers, /^127\.0\.0\.1:\d+$/);
    assert.ok(alive(pid), 'broker process is running');
    // The JVM options it runs with: serial GC and C1 only by default (docs/performance.md).
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    for (const opt of brokerJvmOpts({})) assert.ok(cmdline.includes(opt), `broker runs with ${opt}`);
    assert.ok(fs.existsSync(dataDir), 'data dir exists while running');

    const client = new Kafka({ clientId: 'local-kafka-test', brokers: [kafka.brokers], logLevel: logLevel.NOTHING });
    const admin = client.admin();
    await admin.connect();
    try {
      const expected = loadDefaultTopics();
      assert.ok(expected.length > 0);
      const { topics } = await admin.fetchTopicMetadata({ topics: expected.map((x) => x.name) });
      for (const want of expected) {
        const got = topics.find((x) => x.name === want.name);
        assert.ok(got, `topic ${want.name} exists`);
        assert.equal(got.partitions.length, want.partitions, `partitions of ${want.name}`);
        assert.ok(got.partitions.every((p) => p.leader >= 0), `${want.name} has leaders`);
      }
      const withConfig = expected.find((x) => x.config['max.message.bytes']);
      if (withConfig) {
        const { resources } = await admin.describeConfigs({
          includeSynonyms: false,
          resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: withConfig.name, configNames: ['max.message.bytes'] }],
        });
        assert.equal(resources[0].configEntries[0].configValue, withConfig.config['max.message.bytes']);
      }
    } finally {
      await admin.disconnect();
    }

    // One record, 2 MiB: above Kafka's 1 MB default, so this also checks message.max.bytes.
    const topic = 'mta.events';
    const key = `k-${randomBytes(4).toString('hex')}`;
    const value = Buffer.alloc(2 * 1024 * 1024, 'x');
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key, value }] });
    await producer.disconnect();

    const consumer = client.consumer({ groupId: `local-kafka-test-${randomBytes(4).toString('hex')}` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      const received = await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no record consumed within 20 s')), 20_000);
        consumer.run({
          eachMessage: async ({ message }) => {
            if (message.key?.toString() === key) {
              clearTimeout(timer);
              resolve(message);
            }
          },
        }).catch(reject);
      });
      assert.equal(received.value.length, value.length);
      assert.ok(received.value.equals(value));
    } finally {
      await consumer.disconnect();
    }
  } finally {
    const stopStarted = Date.now();
    await kafka.stop();
    t.diagnostic(`stopped in ${Date.now() - stopStarted} ms`);
  }
  assert.equal(alive(pid), false, 'broker process is gone after stop()');
  assert.equal(fs.existsSync(dataDir), false, 'temp data dir removed after stop()');
});

test('broker JVM options: serial GC and C1 only by default; LOCAL_KAFKA_JVM_OPTS replaces them all', () => {
  const defaults = brokerJvmOpts({});
  assert.ok(defaults.includes('-XX:+UseSerialGC') && defaults.includes('-XX:TieredStopAtLevel=1'));
  assert.ok(!defaults.some((o) => o.includes('G1')));
  assert.deepEqual(brokerJvmOpts({ LOCAL_KAFKA_JVM_OPTS: '   ' }), defaults);
  assert.deepEqual(brokerJvmOpts({ LOCAL_KAFKA_JVM_OPTS: ' -Xmx1g  -XX:+UseG1GC\t-XX:MaxGCPauseMillis=20 ' }), ['-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20']);
});
