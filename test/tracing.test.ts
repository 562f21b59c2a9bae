/**
 * Trace context through the real service bundles: ingest and throttle as separate processes
 * export their spans over OTLP/HTTP (JSON) to a small receiver started here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Admin, Consumer } from 'kafkajs';
import type { Topics } from '@mta/contracts';
import { TOPIC_ENV } from '@mta/config';
import { headersToStrings } from '@mta/kafka';
import { freshTopics, startService, testKafka, type ServiceProcess } from '@mta/testkit';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string; intValue?: string | number } }[];
}
interface Exported {
  service: string;
  span: OtlpSpan;
}

const kafka = testKafka('trace-e2e');
let admin: Admin;
let receiver: Server;
let endpoint: string;
const exported: Exported[] = [];
const contentTypes = new Set<string>();

before(async () => {
  admin = kafka.admin();
  await admin.connect();
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      contentTypes.add(`${req.method} ${req.url} ${req.headers['content-type']}`);
      const doc = JSON.parse(body) as { resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of doc.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
        for (const ss of rs.scopeSpans) for (const span of ss.spans) exported.push({ service, span });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
});
after(async () => {
  await admin.disconnect();
  await new Promise((r) => receiver.close(r));
});

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? (v?.intValue === undefined ? undefined : String(v.intValue));
};

test('one trace from the request record through ingest and throttle, exported over OTLP', async () => {
  const topics: Topics = await freshTopics(admin, 2);
  const run = randomUUID().slice(0, 8);
  const env: Record<string, string> = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_RESOURCE_ATTRIBUTES: `test.run=${run}`,
  };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  const services: ServiceProcess[] = await Promise.all([
    startService('ingest', { ...env, MTA_GROUP_ID: `tr-ingest-${run}` }),
    startService('throttle', { ...env, MTA_GROUP_ID: `tr-throttle-${run}` }),
  ]);
  const consumer: Consumer = kafka.consumer({ groupId: `tr-${run}`, maxWaitTimeInMs: 100 });
  const deliveries: Record<string, string>[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: topics.deliveries, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void deliveries.push(headersToStrings(message.headers)) });

    const traceId = randomUUID().replace(/-/g, '');
    const callerSpan = randomUUID().replace(/-/g, '').slice(0, 16);
    const messageId = `trace-${run}`;
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: topics.requests,
      messages: [
        {
          key: messageId,
          headers: { traceparent: `00-${traceId}-${callerSpan}-01` },
          value: JSON.stringify({ messageId, deliveryId: `d-${run}`, from: 'news@brand.example', to: 'alice@example.test', subject: 'Hi', text: 'Hello' }),
        },
      ],
    });
    await producer.disconnect();

    const deadline = Date.now() + 90000;
    const inTrace = () => exported.filter((e) => e.span.traceId === traceId);
    while (!(deliveries.length >= 1 && inTrace().some((e) => e.service === 'mta-throttle'))) {
      assert.ok(Date.now() < deadline, `trace not complete: ${JSON.stringify(inTrace().map((e) => [e.service, e.span.name]))}, ${deliveries.length} deliveries`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const ingest = inTrace().filter((e) => e.service === 'mta-ingest');
    const throttle = inTrace().filter((e) => e.service === 'mta-throttle');
    assert.equal(ingest.length, 1, 'one ingest span');
    assert.equal(throttle.length, 1, 'one throttle span');
    const i = ingest[0]!.span;
    const t = throttle[0]!.span;
    assert.equal(i.name, `process ${topics.requests}`);
    assert.equal(i.kind, 5, 'CONSUMER (OTLP SpanKind 5)');
    assert.equal(i.parentSpanId, callerSpan, "ingest's span is a child of the caller's");
    assert.equal(attr(i, 'messaging.system'), 'kafka');
    assert.equal(attr(i, 'messaging.kafka.message.key'), messageId);
    assert.equal(t.name, `process ${topics.queue}`);
    assert.equal(t.parentSpanId, i.spanId, "throttle's span is a child of ingest's");
    assert.equal(deliveries[0]!.traceparent, `00-${traceId}-${t.spanId}-01`, 'the delivery record carries the trace on to the sender');
    assert.ok([...contentTypes].every((c) => c === 'POST /v1/traces application/json'), [...contentTypes].join('; '));

    // The stage's own instruments on the ingest's /metrics (Prometheus text).
    const metrics = await (await fetch(`http://127.0.0.1:${services[0]!.port}/metrics`)).text();
    const value = (re: RegExp) => Number(re.exec(metrics)?.[1]);
    const q = (t: string) => t.replace(/\./g, '\\.');
    assert.equal(value(new RegExp(`^mta_records_consumed_total\\{topic="${q(topics.requests)}"[^}]*\\} (\\d+)$`, 'm')), 1, metrics);
    assert.equal(value(new RegExp(`^mta_records_produced_total\\{topic="${q(topics.queue)}"[^}]*\\} (\\d+)$`, 'm')), 1, metrics);
    assert.equal(value(new RegExp(`^mta_consumer_lag_records\\{topic="${q(topics.requests)}",partition="\\d"[^}]*\\} (\\d+)$`, 'm')), 0, metrics);
    assert.equal(value(/^mta_stage_inflight_records\{[^}]*\} (\d+)$/m), 0, metrics);
    assert.equal(value(/^mta_stage_oldest_inflight_seconds\{[^}]*\} (\d+)$/m), 0, metrics);
    assert.match(metrics, /^target_info\{service_name="mta-ingest"/m);
  } finally {
    await consumer.disconnect();
    const codes = await Promise.all(services.map((s) => s.stop()));
    assert.deepEqual(codes, [0, 0], 'both exit 0 on SIGTERM (spans flushed)');
  }
});
