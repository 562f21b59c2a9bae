import { commonKeys, loadConfigOrExit, topicsOf } from '@mta/config';
import { createKafka, Stage } from '@mta/kafka';
import { runService, stageMetrics } from '@mta/telemetry';
import { senderKeys } from './config.ts';
import { buildSender } from './sender.ts';

const config = loadConfigOrExit('sender', { ...commonKeys('sender', 8083), ...senderKeys });
const topics = topicsOf(config);

await runService({
  service: 'sender',
  logLevel: config.logLevel,
  httpHost: config.httpHost,
  httpPort: config.httpPort,
  async start({ log, metrics }) {
    const attempts = metrics.meter.createCounter('mta_sender_attempts', { description: 'Delivery attempts, by outcome and route kind.' });
    const duplicates = metrics.meter.createCounter('mta_sender_duplicates', { description: 'Replayed deliveries skipped because they were already delivered.' });
    const latency = metrics.meter.createHistogram('mta_sender_smtp_seconds', { description: 'Time of one delivery attempt (DNS + SMTP).', unit: 's' });
    const sender = buildSender(config, {
      topics,
      onAttempt: (a) => {
        attempts.add(1, { outcome: a.outcome, via: a.route?.via ?? 'none' });
        latency.record((Date.parse(a.finishedAt) - Date.parse(a.startedAt)) / 1000, { outcome: a.outcome });
      },
      onDuplicate: () => duplicates.add(1),
    });
    let stage: Stage | undefined = undefined;
    stage = new Stage({
      service: 'sender',
      kafka: createKafka(config.kafkaBrokers, config.kafkaClientId, log),
      groupId: config.groupId,
      topics: [topics.deliveries],
      deadLetterTopic: topics.deadLetter,
      log,
      maxInFlight: config.maxInFlight,
      hooks: stageMetrics(metrics.meter, () => stage?.inFlightCount ?? 0),
      handle: sender.handler,
    });
    await stage.start();
    log.info({ topic: topics.deliveries, routes: process.env.MTA_ROUTES ?? null, dns: config.dnsServer ?? 'system' }, 'delivering');
    const s = stage;
    return {
      readiness: () => ({ ready: s.ready, details: { inFlight: s.inFlightCount } }),
      stop: async () => {
        await s.stop(config.shutdownTimeoutMs);
        await sender.close(5000);
      },
    };
  },
});
