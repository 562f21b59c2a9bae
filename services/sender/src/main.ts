import { commonKeys, loadConfigOrExit, topicsOf } from '@mta/config';
import { runStageService } from '@mta/kafka';
import { attributeSet, smtpTelemetry } from '@mta/telemetry';
import { senderKeys } from './config.ts';
import { buildSender } from './sender.ts';

const config = loadConfigOrExit('sender', { ...commonKeys('sender', 8083), ...senderKeys });
const topics = topicsOf(config);

await runStageService({
  service: 'sender',
  config,
  inputTopic: topics.deliveries,
  deadLetterTopic: topics.deadLetter,
  setup({ metrics, log }) {
    const attempts = metrics.meter.createCounter('mta_sender_attempts', { description: 'Delivery attempts, by outcome and route kind.' });
    const duplicates = metrics.meter.createCounter('mta_sender_duplicates', { description: 'Replayed deliveries skipped because they were already delivered.' });
    const latency = metrics.meter.createHistogram('mta_sender_smtp_seconds', { description: 'Time of one delivery attempt (DNS + SMTP).', unit: 's' });
    const smtp = smtpTelemetry(metrics.meter);
    const attemptAttrs = attributeSet('outcome', 'via');
    const outcomeAttrs = attributeSet('outcome');
    const sender = buildSender(config, {
      topics,
      step: (phase, site, fn, attributes) => smtp.phase(phase, site, fn, attributes),
      observer: (c) => smtp.command(c),
      onAttempt: (a) => {
        attempts.add(1, attemptAttrs(a.outcome, a.route?.via ?? 'none'));
        smtp.delivery(a.route?.site ?? 'none', a.route?.sourceIp, a.outcome);
        latency.record((Date.parse(a.finishedAt) - Date.parse(a.startedAt)) / 1000, outcomeAttrs(a.outcome));
      },
      onDuplicate: () => duplicates.add(1),
      onWarning: (message) => log.warn(message),
    });
    return {
      handle: sender.handler,
      close: () => sender.close(5000),
      describe: {
        routes: process.env.MTA_ROUTES ?? null,
        dns: config.dnsServer ?? 'system',
        dkim: config.dkimDir ?? null,
        bounceDomain: config.bounceDomain ?? null,
        ipPools: config.ipPools ? [...config.ipPools.keys()] : null,
        tls: config.smtpTls,
        mtaSts: config.mtaSts,
      },
    };
  },
});
