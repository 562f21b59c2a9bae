/**
 * Per-record cost of the Stage's tracing path (consumer span, context, header injection), with
 * tracing off (no SDK, the default: headers copied through) and on (SDK, every span recorded and
 * handed to an exporter that drops it), against a baseline that does none of it. Run: node --import tsx bench/trace-overhead.ts
 * Figures are ns per record; compare them within one run (the machine may be shared).
 */
import { context, trace } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { passThroughHeaders, startConsumerSpan, traceHeaders, type InRecord } from '@mta/kafka';
import { startTracing } from '@mta/telemetry';

const N = 100_000;
const rec = (headers: Record<string, string>): InRecord => ({ topic: 'mta.queue', partition: 3, offset: '12345', key: Buffer.from('example.com'), value: null, headers, timestamp: '0' });
const plain = rec({});
const traced = rec({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });

/** Best of 5 rounds (the least disturbed by other processes). */
async function measure(label: string, r: InRecord, path: (r: InRecord) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20_000; i++) await path(r); // warm-up
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await path(r);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / N);
  }
  console.log(`${label.padEnd(44)} ${best.toFixed(0).padStart(6)} ns/record`);
  return best;
}

const handler = async (r: InRecord) => [{ topic: 'mta.deliveries', key: 'example.com', value: r.offset }];
const baseline = (r: InRecord) => handler(r);
const tracer = () => trace.getTracer('bench');
const stagePath = async (r: InRecord) => {
  const { span, ctx } = startConsumerSpan(tracer(), r, 'mta-throttle');
  const out = await context.with(ctx, () => handler(r));
  const h = traceHeaders(ctx);
  const res = h ? out.map((o) => ({ ...o, headers: h })) : out;
  span.end();
  return res;
};

// What the Stage does without an SDK: copy the trace headers through.
const passPath = async (r: InRecord) => {
  const h = passThroughHeaders(r.headers);
  const out = await handler(r);
  return h ? out.map((o) => ({ ...o, headers: h })) : out;
};

const b1 = await measure('baseline (handler only)', plain, baseline);
startTracing('bench', {});
const off1 = await measure('tracing off, record without traceparent', plain, passPath);
const off2 = await measure('tracing off, record with traceparent', traced, passPath);
const api = await measure('(API path with no SDK, for comparison)', traced, stagePath);
const drop: SpanExporter = { export: (_s: ReadableSpan[], done: (r: ExportResult) => void) => done({ code: 0 }), shutdown: async () => undefined };
const on = startTracing('bench', { OTEL_TRACES_EXPORTER: 'otlp' }, { exporter: drop });
const on1 = await measure('tracing on (every span recorded, dropped)', traced, stagePath);
await on.shutdown();
console.log(`overhead vs baseline: off ${(off1 - b1).toFixed(0)} / ${(off2 - b1).toFixed(0)} ns (API path ${(api - b1).toFixed(0)} ns), on ${(on1 - b1).toFixed(0)} ns per record`);
