/**
 * Trace context through the real service bundles: the five services as separate processes, a
 * real SMTP sink as the receiving MX, spans exported over OTLP/HTTP (JSON) to a small receiver
 * started here. One trace runs from the request record to the status record.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Admin, Consumer } from 'kafkajs';
import type { Topics } from '@mta/contracts';
import { TOPIC_ENV } from '@mta/config';
import { headersToStrings } from '@mta/kafka';
import { freshTopics, SERVICES, startService, startSink, testKafka, type ServiceProcess } from '@mta/testkit';

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

test('one trace from the request record through the five services to the status record, exported over OTLP', async () => {
  const topics: Topics = await freshTopics(admin, 2);
  const run = randomUUID().slice(0, 8);
  const sink = await startSink();
  const env: Record<string, string> = {
    KAFKA_BROKERS: process.env.KAFKA_BROKERS!,
    MTA_ROUTES: `*=127.0.0.1:${sink.port}`,
    MTA_THROTTLE_SITE: 'domain', // every domain is routed to the sink: lanes by domain, no MX lookups
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_RESOURCE_ATTRIBUTES: `test.run=${run}`,
  };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  const services: ServiceProcess[] = await Promise.all(SERVICES.map((s) => startService(s, { ...env, MTA_GROUP_ID: `tr-${s}-${run}` })));
  const consumer: Consumer = kafka.consumer({ groupId: `tr-${run}`, maxWaitTimeInMs: 100 });
  const records: { topic: string; status?: string; headers: Record<string, string> }[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.deliveries, topics.status], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) =>
        void records.push({ topic, headers: headersToStrings(message.headers), status: topic === topics.status ? (JSON.parse(message.value!.toString()) as { status: string }).status : undefined }),
    });

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
    const sent = () => records.find((r) => r.status === 'sent');
    const feedbackSpans = () => inTrace().filter((e) => e.service === 'mta-feedback');
    // Each process exports on its own schedule: wait for every service's spans.
    const senderSpans = () => inTrace().filter((e) => e.service === 'mta-sender').map((e) => e.span);
    const complete = () => SERVICES.every((s) => inTrace().some((e) => e.service === `mta-${s}`)) && feedbackSpans().length >= 2 && senderSpans().length >= 8;
    while (!(sent() && complete())) {
      assert.ok(Date.now() < deadline, `trace not complete: ${JSON.stringify(inTrace().map((e) => [e.service, e.span.name]))}, ${records.length} records`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const ingest = inTrace().filter((e) => e.service === 'mta-ingest');
    // The throttle also learns from the attempt record (a second stage on mta.attempts): that span
    // follows the sender's; the one that released the message is on mta.queue.
    const throttleAll = inTrace().filter((e) => e.service === 'mta-throttle');
    const throttle = throttleAll.filter((e) => e.span.name === `process ${topics.queue}`);
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
    const delivery = records.find((r) => r.topic === topics.deliveries)!;
    assert.equal(delivery.headers.traceparent, `00-${traceId}-${t.spanId}-01`, 'the delivery record carries the trace on to the sender');

    // sender → classifier → feedback, each a child of the previous stage's span.
    const only = (service: string) => {
      const found = inTrace().filter((e) => e.service === service);
      assert.equal(found.length, 1, `one ${service} span: ${JSON.stringify(inTrace().map((e) => [e.service, e.span.name]))}`);
      return found[0]!.span;
    };
    const sndAll = senderSpans();
    const SMTP_COMMANDS = ['smtp.connect', 'smtp.data', 'smtp.ehlo', 'smtp.mail', 'smtp.rcpt'];
    assert.deepEqual(
      sndAll.map((x) => x.name).sort(),
      [`process ${topics.deliveries}`, ...SMTP_COMMANDS, 'smtp.dns', 'smtp.send'].sort(),
      'the sender: its stage span, the DNS and send steps, and the SMTP conversation (the sink offers no STARTTLS)',
    );
    const snd = sndAll.find((x) => x.name === `process ${topics.deliveries}`)!;
    const send = sndAll.find((x) => x.name === 'smtp.send')!;
    for (const step of sndAll.filter((x) => x.name === 'smtp.dns' || x === send)) assert.equal(step.parentSpanId, snd.spanId, `${step.name} is a child of the sender's stage span`);
    assert.equal(attr(send, 'net.peer.port'), String(sink.port), 'the send step names the peer');
    // Each command of the conversation is a child of the send step, with its reply code.
    const replies: Record<string, [string, string]> = { 'smtp.connect': ['CONNECT', '220'], 'smtp.ehlo': ['EHLO', '250'], 'smtp.mail': ['MAIL FROM', '250'], 'smtp.rcpt': ['RCPT TO', '250'], 'smtp.data': ['DATA', '250'] };
    for (const name of SMTP_COMMANDS) {
      const c = sndAll.find((x) => x.name === name)!;
      assert.equal(c.parentSpanId, send.spanId, `${name} is a child of smtp.send`);
      assert.deepEqual([attr(c, 'smtp.command'), attr(c, 'smtp.reply.code')], replies[name], name);
      assert.ok(!c.attributes.some((a) => /@/.test(a.value.stringValue ?? '')), `${name} carries no address`);
    }
    const cls = only('mta-bounce-classifier');
    assert.equal(snd.name, `process ${topics.deliveries}`);
    assert.equal(snd.parentSpanId, t.spanId, "sender's span is a child of throttle's");
    assert.equal(cls.name, `process ${topics.attempts}`);
    assert.equal(cls.parentSpanId, snd.spanId, "classifier's span is a child of sender's");
    // The throttle consumes mta.queue, and for learning mta.attempts and mta.events (complaints).
    for (const e of throttleAll) assert.ok([`process ${topics.queue}`, `process ${topics.attempts}`, `process ${topics.events}`].includes(e.span.name), `the throttle consumes ${e.span.name}`);
    for (const learn of throttleAll.filter((e) => e.span.name === `process ${topics.attempts}`)) {
      assert.equal(learn.span.parentSpanId, snd.spanId, "the throttle's learning span is a child of the sender's");
    }
    const fb = feedbackSpans().map((e) => e.span);
    assert.deepEqual(fb.map((x) => x.parentSpanId).sort(), [cls.spanId, i.spanId].sort(), 'feedback folds the accepted event (from ingest) and the delivered event (from the classifier)');
    const fbDelivered = fb.find((x) => x.parentSpanId === cls.spanId)!;
    assert.equal(sent()!.headers.traceparent, `00-${traceId}-${fbDelivered.spanId}-01`, 'the status record carries the trace to Campaign');
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

    // The sender's delivery and SMTP step instruments.
    const senderMetrics = await (await fetch(`http://127.0.0.1:${services[2]!.port}/metrics`)).text();
    assert.match(senderMetrics, new RegExp(`^mta_deliveries_total\\{site="127\\.0\\.0\\.1:${sink.port}",source_ip="default",outcome="delivered"[^}]*\\} 1$`, 'm'), senderMetrics);
    for (const phase of ['send', 'connect', 'ehlo', 'mail', 'rcpt', 'data']) {
      assert.match(senderMetrics, new RegExp(`^mta_smtp_phase_seconds_count\\{phase="${phase}",site="[^"]+",outcome="ok"[^}]*\\} 1$`, 'm'), senderMetrics);
    }
    assert.match(senderMetrics, /^mta_smtp_phase_seconds_count\{phase="dns",site="dns",outcome="ok"[^}]*\} 1$/m, senderMetrics);
  } finally {
    await consumer.disconnect();
    const codes = await Promise.all(services.map((s) => s.stop()));
    await sink.close();
    assert.deepEqual(codes, services.map(() => 0), 'every service exits 0 on SIGTERM (spans flushed)');
  }
});
