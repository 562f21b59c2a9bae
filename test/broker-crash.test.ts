/**
 * Retries survive a crash of the broker (issue 5 §2): the five services on a private single-node
 * broker (its own data dir, so the shared test broker is never touched), messages waiting on the
 * delay topics for their retry, a kill -9 of the broker, a restart on the same data dir and ports.
 * The bounce-classifier, which holds the waiting retries, is killed too while the broker is down.
 * Every waiting message is then retried and sent: nothing was held only in memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { StatusRecord } from '@mta/contracts';
import { DEFAULT_TOPICS } from '@mta/contracts';
import { collect, SERVICES, startScriptedSink, startService, type ServiceProcess } from '@mta/testkit';
// @ts-expect-error plain JS module without types (its JSDoc describes startKafka)
import { startKafka as startKafkaUntyped } from '../deploy/kafka/local-kafka.mjs';
// @ts-expect-error plain JS module without types (warmUpKafka(brokers): joins a group and commits once)
import { warmUpKafka } from '../scripts/kafka-warm-up.mjs';

interface LocalBroker {
  brokers: string;
  port: number;
  controllerPort: number;
  pid: number;
  exited: Promise<unknown>;
  stop(): Promise<void>;
}
const startKafka = startKafkaUntyped as (opts: { dataDir: string; port?: number; controllerPort?: number; topics?: false; log: (m: string) => void }) => Promise<LocalBroker>;

const STEP_MS = 15000; // the retry step: long enough to kill and restart the broker while retries wait
const GREYLISTED = { code: 451, message: '4.7.1 Recipient address rejected: Greylisted, try again later' };

test('kill -9 of the broker (and of the classifier) while retries wait on the delay topics, then a restart: every waiting message is retried and sent once', { timeout: 420_000 }, async (t) => {
  const run = randomUUID().slice(0, 8);
  const dataDir = mkdtempSync(join(tmpdir(), 'mta-broker-crash-'));
  const diag = (m: string) => t.diagnostic(m);
  let broker = await startKafka({ dataDir, log: diag });
  const { port, controllerPort } = broker;
  // As `npm start` and `npm test` do on a new broker: load the group coordinator before the
  // services join (what this test is about is the crash below, not a broker's first minute).
  await (warmUpKafka as (brokers: string) => Promise<void>)(broker.brokers);
  const kafka = new Kafka({ clientId: 'broker-crash-test', brokers: [broker.brokers], logLevel: logLevel.NOTHING });
  // flaky1-*: greylisted on the first attempt, accepted on the second.
  const sink = await startScriptedSink((address, nth) => (nth <= 1 ? GREYLISTED : undefined));
  const policy = join(dataDir, 'policy.txt');
  writeFileSync(policy, `jitter = 10%\ndefault | ${STEP_MS}ms...\n`);
  const env = {
    KAFKA_BROKERS: broker.brokers,
    MTA_ROUTES: `*=127.0.0.1:${sink.port}`,
    MTA_THROTTLE_SITE: 'domain',
    MTA_RETRY_POLICY: policy,
    MTA_RETRY_TIERS: '1s,2s,4s,8s,16s',
  };
  const services: ServiceProcess[] = [];
  const producer = kafka.producer();
  let status: Awaited<ReturnType<typeof collect<StatusRecord>>> | undefined;
  try {
    services.push(...(await Promise.all(SERVICES.map((s) => startService(s, env)))));
    status = await collect<StatusRecord>(kafka, DEFAULT_TOPICS.status);
    await producer.connect();
    const ids = Array.from({ length: 4 }, (_, i) => `crash-${i}-${run}`);
    const to = (id: string) => `flaky1-${id}@crash.test`;
    await producer.send({
      topic: DEFAULT_TOPICS.requests,
      messages: ids.map((id) => ({
        key: id,
        value: JSON.stringify({ messageId: id, deliveryId: `d-${run}`, from: 'news@brand.example', to: to(id), subject: 'Crash', text: 'Hello' }),
      })),
    });
    await producer.disconnect();
    const of = (rs: StatusRecord[], id: string) => rs.filter((r) => r.messageId === id);
    const softBounced = await status.until((rs) => ids.every((id) => of(rs, id).some((r) => r.event === 'soft_bounce')), 150000);
    const softAt = Math.max(...softBounced.filter((r) => r.event === 'soft_bounce').map((r) => Date.parse(r.timestamp)));
    assert.ok(ids.every((id) => !of(softBounced, id).some((r) => r.status !== 'taken_into_account')), 'no message is final yet');

    // The retries now wait on the delay topics. Kill the broker (no clean shutdown, no flush) and
    // bring it back on the same data and ports (a retry that falls due meanwhile waits for it).
    process.kill(broker.pid, 'SIGKILL');
    await broker.exited;
    // The retries were still waiting when the broker died: no second attempt had reached the server.
    for (const id of ids) assert.equal(sink.rcptCount(to(id)), 1, `${id}: only the first attempt before the crash`);
    diag(`broker killed ${Date.now() - softAt} ms after the last soft bounce`);
    // The classifier holds the waiting retries' heads: kill it too, so that what is retried can only
    // come from what the broker had written to its data dir before it died.
    const classifierAt = SERVICES.indexOf('bounce-classifier');
    await services[classifierAt]!.stop('SIGKILL');
    broker = await startKafka({ dataDir, port, controllerPort, topics: false, log: diag });
    services[classifierAt] = await startService('bounce-classifier', env);

    await status.until((rs) => ids.every((id) => of(rs, id).some((r) => r.status === 'sent')), 150000);
    // The test's own reader is at least once too (a rejoin after the restart re-reads what it had not
    // committed): each record once, by its partition and offset.
    const records = [...new Map(status.records.map((r) => [`${r.partition}:${r.offset}`, r.value])).values()];
    // docs/analysts.md: a producer retry across the crash may write a status record twice; it is
    // then an exact repeat of the previous record for that message. Collapse only exact repeats.
    const exactRepeatsCollapsed = (rs: StatusRecord[]) => rs.filter((r, i) => i === 0 || JSON.stringify(r) !== JSON.stringify(rs[i - 1]));
    for (const id of ids) {
      assert.deepEqual(
        exactRepeatsCollapsed(of(records, id)).map((r) => `${r.status}/${r.event}/${r.attempt}`),
        ['taken_into_account/accepted/0', 'taken_into_account/soft_bounce/1', 'sent/delivered/2'],
        id,
      );
      assert.equal(sink.received.filter((m) => m.to.includes(to(id))).length, 1, `${id}: delivered once, by the retry`);
      const at = (event: string) => Date.parse(of(records, id).find((r) => r.event === event)!.timestamp);
      assert.ok(at('delivered') >= at('soft_bounce') + STEP_MS * 0.9 - 1000, `${id}: the retry did not go before its time`);
    }
    const codes = await Promise.all(services.splice(0).map((s) => s.stop()));
    assert.deepEqual(codes, SERVICES.map(() => 0), 'every service rode out the broker crash and exits 0 on SIGTERM');
  } catch (err) {
    // What the services said is the first thing to read when this fails.
    for (const s of services) diag(`--- ${s.name} output ---\n${s.output.join('')}`);
    throw err;
  } finally {
    await Promise.all(services.map((s) => s.stop('SIGKILL')));
    await status?.stop();
    await producer.disconnect().catch(() => {});
    await sink.close();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
