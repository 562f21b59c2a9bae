import { DeadLetterCodec, MtaEventCodec, type DeadLetter, type MtaEvent, type SmtpReply, type Topics } from '@mta/contracts';
import type { OutRecord } from '@mta/kafka';
import { parseBounce } from '../bounce/parse.ts';
import { qualifyReport, type QualifiedRecipient } from '../bounce/qualify.ts';
import type { BounceReport } from '../bounce/report.ts';
import type { Rule } from '../rules.ts';
import { correlate, type CorrelateOptions, type Correlation } from './correlate.ts';

/** The SMTP envelope of one inbound message. */
export interface InboundEnvelope {
  mailFrom: string;
  rcptTo: string[];
  remoteAddress: string;
  /** Listener-assigned id (smtp-server's session id + transaction), used as the dead letter's source offset. */
  id: string;
}

/** What happened to one inbound message, for logs and metrics. */
export type IntakeResult =
  | 'async_bounce'
  | 'complaint'
  | 'ignored' // auto-reply, success notice, non-abuse feedback: no status change
  | 'unmatched' // a report we cannot tie to a message: dead-lettered
  | 'not_bounce'; // not a report at all: dropped (counted, logged)

export interface IntakeDecision {
  result: IntakeResult;
  records: OutRecord[];
  report: BounceReport;
  correlation?: Correlation;
  /** The recipient outcome that was emitted (the most severe when a report lists several). */
  chosen?: QualifiedRecipient;
}

export interface IntakeOptions extends CorrelateOptions {
  topics: Pick<Topics, 'events' | 'deadLetter'>;
  service: string;
}

/** Largest original kept in a dead letter (Kafka's default record limit is 1 MB). */
export const DEAD_LETTER_MAX_ORIGINAL = 256 * 1024;

/**
 * Decides what one inbound message at the bounce address becomes on Kafka. Pure: bytes, envelope,
 * rules and clock in; records out.
 *
 * - a bounce or complaint tied to a message → one `async_bounce` / `complaint` event on mta.events
 *   (key = messageId). A VERP message has one recipient, so when a report lists several, the most
 *   severe outcome is reported (complaint > hard > soft);
 * - a bounce or complaint tied to nothing → a dead letter `bounce_unmatched` with the raw message;
 * - an auto-reply, a delay-free success notice or a non-abuse feedback report → nothing;
 * - not a report → nothing (the listener logs and counts it).
 */
export function decideIntake(raw: Buffer, env: InboundEnvelope, rules: readonly Rule[], opts: IntakeOptions, now: Date): IntakeDecision {
  const report = parseBounce(raw);
  if (report.kind === 'not-bounce') return { result: 'not_bounce', records: [], report };
  const qualified = qualifyReport(report, rules).filter((q) => q.outcome !== 'ignored');
  if (qualified.length === 0) return { result: 'ignored', records: [], report };

  const correlation = correlate(report, env.rcptTo, opts);
  if (!correlation) {
    const what = qualified.map((q) => `${q.recipient}: ${q.failure.type} ${q.failure.reason}`).join('; ');
    return { result: 'unmatched', records: [deadLetterFor(raw, env, opts, now, `no VERP address, trace header or Message-ID of ours in a ${report.format} report (${what})`)], report };
  }
  const chosen = [...qualified].sort((a, b) => severity(b) - severity(a))[0]!;
  const event = eventFor(chosen, correlation.messageId, now);
  // A complaint names the IP that sent the reported message (ARF Source-IP): the throttle charges that (IP, site) lane.
  if (event.event === 'complaint' && report.feedback?.sourceIp) event.sourceIp = report.feedback.sourceIp;
  return {
    result: event.event === 'complaint' ? 'complaint' : 'async_bounce',
    records: [{ topic: opts.topics.events, key: event.messageId, value: MtaEventCodec.encode(event) }],
    report,
    correlation,
    chosen,
  };
}

function severity(q: QualifiedRecipient): number {
  if (q.outcome === 'complaint') return 3;
  if (q.failure.type === 'hard') return 2;
  return q.permanent ? 1 : 0;
}

function eventFor(q: QualifiedRecipient, messageId: string, now: Date): MtaEvent {
  const smtp: SmtpReply = {};
  if (q.replyCode !== undefined) smtp.code = q.replyCode;
  if (q.status) smtp.enhancedCode = q.status;
  if (q.failure.message) smtp.response = q.failure.message;
  if (q.remoteMta) smtp.mx = q.remoteMta;
  if (q.command) smtp.command = q.command;
  return {
    v: 1,
    messageId,
    // The report does not carry Campaign's deliveryId; feedback keys its state by messageId.
    deliveryId: '',
    recipient: q.recipient,
    event: q.outcome === 'complaint' ? 'complaint' : 'async_bounce',
    // Asynchronous reports are not tied to one of our attempts.
    attempt: 0,
    timestamp: now.toISOString(),
    failure: q.failure,
    ...(Object.keys(smtp).length ? { smtp } : {}),
    senderSignal: q.senderSignal,
  };
}

function deadLetterFor(raw: Buffer, env: InboundEnvelope, opts: IntakeOptions, now: Date, message: string): OutRecord {
  const kept = raw.subarray(0, DEAD_LETTER_MAX_ORIGINAL);
  const truncated = kept.length < raw.length;
  let text: string | undefined;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(kept);
  } catch {
    text = undefined;
  }
  const value: DeadLetter = {
    v: 1,
    service: opts.service,
    error: { code: 'bounce_unmatched', message: truncated ? `${message} (original truncated to ${kept.length} of ${raw.length} bytes)` : message },
    source: { topic: `smtp:${env.rcptTo.join(',')}`, partition: 0, offset: env.id, key: null, timestamp: now.toISOString() },
    original: kept.toString('base64'),
    ...(text !== undefined && kept.length <= 64 * 1024 ? { originalText: text } : {}),
    at: now.toISOString(),
  };
  return { topic: opts.topics.deadLetter, key: null, value: DeadLetterCodec.encode(value) };
}
