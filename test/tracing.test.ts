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
  const records: { topic: string; messageId?: string; status?: string; headers: Record<string, string> }[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.queue, topics.deliveries, topics.attempts, topics.events, topics.status], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const value = JSON.parse(message.value!.toString()) as { messageId?: string; status?: string };
        records.push({ topic, headers: headersToStrings(message.headers), messageId: value.messageId, status: topic === topics.status ? value.status : undefined });
      },
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

    // Delivery is at least once: a stage that rejoins its group before committing handles a
    // record again, with a span of its own each time. So the test does not count spans per
    // service; it follows the chain from the records' `traceparent` headers back through the
    // parents, and checks every handling it finds. (Feedback promises one status per
    // transition: there, one record per status is asserted.)
    const inTrace = () => exported.filter((e) => e.span.traceId === traceId);
    const byId = (id: string | undefined) => inTrace().find((e) => e.span.spanId === id);
    const spanOfHeader = (r: { headers: Record<string, string> } | undefined) => byId(r?.headers.traceparent?.split('-')[2]);
    const childrenOf = (parent: OtlpSpan) => inTrace().filter((e) => e.span.parentSpanId === parent.spanId);
    const statusOf = (status: string) => records.filter((r) => r.topic === topics.status && r.messageId === messageId && r.status === status);
    /** The chain behind the `sent` status record, once every span on it has been exported. */
    const chain = () => {
      const fb = spanOfHeader(statusOf('sent')[0]);
      const cls = byId(fb?.span.parentSpanId);
      const snd = byId(cls?.span.parentSpanId);
      const thr = byId(snd?.span.parentSpanId);
      const ing = byId(thr?.span.parentSpanId);
      const fbAccepted = spanOfHeader(statusOf('taken_into_account')[0]);
      const send = snd && childrenOf(snd.span).find((e) => e.span.name === 'smtp.send');
      if (!fb || !cls || !snd || !thr || !ing || !byId(fbAccepted?.span.parentSpanId) || !send || childrenOf(send.span).length < 5 || childrenOf(snd.span).filter((e) => e.service === 'mta-sender').length < 2) return undefined;
      return { fb, cls, snd, thr, ing, fbAccepted: fbAccepted!, send };
    };
    const deadline = Date.now() + 90000;
    let found = chain();
    while (!found) {
      assert.ok(Date.now() < deadline, `trace not complete: ${JSON.stringify(inTrace().map((e) => [e.service, e.span.name]))}, ${records.length} records`);
      await new Promise((r) => setTimeout(r, 100));
      found = chain();
    }
    const { fb: fbDelivered, cls: clsE, snd: sndE, thr: thrE, ing: ingE, fbAccepted, send: sendE } = found;

    // ingest → throttle → sender → classifier → feedback, each a child of the previous stage's span.
    assert.deepEqual(
      [ingE, thrE, sndE, clsE, fbDelivered].map((e) => `${e.service} ${e.span.name}`),
      [`mta-ingest process ${topics.requests}`, `mta-throttle process ${topics.queue}`, `mta-sender process ${topics.deliveries}`, `mta-bounce-classifier process ${topics.attempts}`, `mta-feedback process ${topics.events}`],
      'the status record leads back through the five stages',
    );
    const i = ingE.span;
    const t = thrE.span;
    assert.equal(i.kind, 5, 'CONSUMER (OTLP SpanKind 5)');
    assert.equal(i.parentSpanId, callerSpan, "ingest's span is a child of the caller's");
    assert.equal(attr(i, 'messaging.system'), 'kafka');
    assert.equal(attr(i, 'messaging.kafka.message.key'), messageId);
    // However often ingest handled the request, each of its spans continues the caller's trace.
    const ingestSpans = inTrace().filter((e) => e.service === 'mta-ingest' && e.span.name === `process ${topics.requests}`);
    for (const e of ingestSpans) assert.equal(e.span.parentSpanId, callerSpan);
    // Every record carries the span of the stage that produced it, in the same trace.
    const produced: [string, string, string][] = [
      [topics.queue, 'mta-ingest', `process ${topics.requests}`],
      [topics.deliveries, 'mta-throttle', `process ${topics.queue}`],
      [topics.attempts, 'mta-sender', `process ${topics.deliveries}`],
      [topics.status, 'mta-feedback', `process ${topics.events}`],
    ];
    for (const [topic, service, name] of produced) {
      const rs = records.filter((r) => r.topic === topic && r.messageId === messageId);
      assert.ok(rs.length >= 1, `a record on ${topic}`);
      for (const r of rs) {
        const e = spanOfHeader(r);
        assert.ok(e, `the span named by the ${topic} record (${r.headers.traceparent}) was exported`);
        assert.equal(`${e.service} ${e.span.name}`, `${service} ${name}`, `${topic} records carry the producing stage's span`);
        assert.equal(r.headers.traceparent, `00-${traceId}-${e.span.spanId}-01`);
      }
    }
    assert.ok(
      records.some((r) => r.topic === topics.deliveries && r.headers.traceparent === `00-${traceId}-${t.spanId}-01`),
      'the delivery record carries the trace on to the sender',
    );

    // The sender's handling: its DNS and send steps, and the SMTP conversation under the send step.
    const snd = sndE.span;
    const SMTP_COMMANDS = ['smtp.connect', 'smtp.data', 'smtp.ehlo', 'smtp.mail', 'smtp.rcpt'];
    const steps = childrenOf(snd).filter((e) => e.service === 'mta-sender');
    assert.deepEqual(steps.map((e) => e.span.name).sort(), ['smtp.dns', 'smtp.send'], "the sender's stage span has the DNS and send steps");
    const send = sendE.span;
    assert.equal(attr(send, 'net.peer.port'), String(sink.port), 'the send step names the peer');
    const commands = childrenOf(send).map((e) => e.span);
    assert.deepEqual(commands.map((c) => c.name).sort(), SMTP_COMMANDS, 'the SMTP conversation (the sink offers no STARTTLS)');
    // Each command of the conversation is a child of the send step, with its reply code.
    const replies: Record<string, [string, string]> = { 'smtp.connect': ['CONNECT', '220'], 'smtp.ehlo': ['EHLO', '250'], 'smtp.mail': ['MAIL FROM', '250'], 'smtp.rcpt': ['RCPT TO', '250'], 'smtp.data': ['DATA', '250'] };
    for (const name of SMTP_COMMANDS) {
      const c = commands.find((x) => x.name === name)!;
      assert.deepEqual([attr(c, 'smtp.command'), attr(c, 'smtp.reply.code')], replies[name], name);
      assert.ok(!c.attributes.some((a) => /@/.test(a.value.stringValue ?? '')), `${name} carries no address`);
    }
    // Every sender span in the trace is a stage span or one of its steps/commands: nothing else.
    for (const e of inTrace().filter((x) => x.service === 'mta-sender')) {
      assert.ok([`process ${topics.deliveries}`, 'smtp.dns', 'smtp.send', ...SMTP_COMMANDS].includes(e.span.name), `sender span ${e.span.name}`);
    }

    // The throttle consumes mta.queue, and for learning mta.attempts and mta.events (complaints).
    const throttleAll = inTrace().filter((e) => e.service === 'mta-throttle');
    for (const e of throttleAll) assert.ok([`process ${topics.queue}`, `process ${topics.attempts}`, `process ${topics.events}`].includes(e.span.name), `the throttle consumes ${e.span.name}`);
    const attemptParents = new Set(records.filter((r) => r.topic === topics.attempts).map((r) => r.headers.traceparent?.split('-')[2]));
    for (const learn of throttleAll.filter((e) => e.span.name === `process ${topics.attempts}`)) {
      assert.ok(attemptParents.has(learn.span.parentSpanId), "the throttle's learning span is a child of the sender span its attempt record names");
      assert.equal(byId(learn.span.parentSpanId)?.span.name, `process ${topics.deliveries}`);
    }
    // Feedback folds the accepted event (from ingest) and the delivered event (from the
    // classifier); each status record (one per transition) carries its span to Campaign.
    assert.equal(statusOf('taken_into_account').length, 1, 'one taken_into_account status');
    assert.equal(statusOf('sent').length, 1, 'one sent status');
    assert.equal(fbAccepted.service, 'mta-feedback');
    assert.equal(byId(fbAccepted.span.parentSpanId)!.span.name, `process ${topics.requests}`, 'the accepted status follows from ingest');
    assert.equal(byId(fbAccepted.span.parentSpanId)!.service, 'mta-ingest');
    assert.equal(fbDelivered.span.parentSpanId, clsE.span.spanId, 'the sent status follows from the classifier');
    assert.ok([...contentTypes].every((c) => c === 'POST /v1/traces application/json'), [...contentTypes].join('; '));

    // Metrics, against what the trace shows was done: a stage handles a record once per span.
    const countsAgree = async (port: number, pairs: (metrics: string) => [number, number, string][]) => {
      const until = Date.now() + 10000;
      for (;;) {
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        const ps = pairs(metrics);
        if (ps.every(([a, b]) => a === b) || Date.now() > until) {
          for (const [a, b, what] of ps) assert.equal(a, b, `${what}\n${metrics}`);
          return metrics;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const value = (metrics: string, re: RegExp) => Number(re.exec(metrics)?.[1]);
    const q = (t: string) => t.replace(/\./g, '\\.');
    const spansNamed = (service: string, name: string) => inTrace().filter((e) => e.service === service && e.span.name === name).length;
    // The stage's own instruments on the ingest's /metrics (Prometheus text).
    const metrics = await countsAgree(services[0]!.port, (m) => [
      [value(m, new RegExp(`^mta_records_consumed_total\\{topic="${q(topics.requests)}"[^}]*\\} (\\d+)$`, 'm')), spansNamed('mta-ingest', `process ${topics.requests}`), 'records consumed = times ingest handled the request'],
      [value(m, new RegExp(`^mta_records_produced_total\\{topic="${q(topics.queue)}"[^}]*\\} (\\d+)$`, 'm')), records.filter((r) => r.topic === topics.queue).length, 'records produced = records on the queue topic'],
    ]);
    assert.ok(spansNamed('mta-ingest', `process ${topics.requests}`) >= 1);
    assert.equal(value(metrics, new RegExp(`^mta_consumer_lag_records\\{topic="${q(topics.requests)}",partition="\\d"[^}]*\\} (\\d+)$`, 'm')), 0, metrics);
    assert.equal(value(metrics, /^mta_stage_inflight_records\{[^}]*\} (\d+)$/m), 0, metrics);
    assert.equal(value(metrics, /^mta_stage_oldest_inflight_seconds\{[^}]*\} (\d+)$/m), 0, metrics);
    assert.match(metrics, /^target_info\{service_name="mta-ingest"/m);

    // The sender's delivery and SMTP step instruments: one observation per span of the step.
    assert.ok(sink.received.length >= 1, "the sink received the message");
    const senderMetrics = await countsAgree(services[2]!.port, (m) => [
      [
        value(m, new RegExp(`^mta_deliveries_total\\{site="127\\.0\\.0\\.1:${sink.port}",source_ip="default",outcome="delivered"[^}]*\\} (\\d+)$`, 'm')),
        sink.received.length,
        'deliveries counted = messages the sink received',
      ],
      ...['send', 'connect', 'ehlo', 'mail', 'rcpt', 'data'].map((phase): [number, number, string] => [
        value(m, new RegExp(`^mta_smtp_phase_seconds_count\\{phase="${phase}",site="[^"]+",outcome="ok"[^}]*\\} (\\d+)$`, 'm')),
        spansNamed('mta-sender', `smtp.${phase}`),
        `smtp ${phase}: one observation per span`,
      ]),
      [value(m, /^mta_smtp_phase_seconds_count\{phase="dns",site="dns",outcome="ok"[^}]*\} (\d+)$/m), spansNamed('mta-sender', 'smtp.dns'), 'dns: one observation per span'],
    ]);
    assert.ok(senderMetrics.length > 0);
  } finally {
    await consumer.disconnect();
    const codes = await Promise.all(services.map((s) => s.stop()));
    await sink.close();
    assert.deepEqual(codes, services.map(() => 0), 'every service exits 0 on SIGTERM (spans flushed)');
  }
});
