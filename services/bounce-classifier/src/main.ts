import { loadConfigOrExit, topicsOf } from '@mta/config';
import { createKafka, Stage } from '@mta/kafka';
import { runService, stageMetrics } from '@mta/telemetry';
import { classifierKeys } from './config.ts';
import { createClassifierHandler } from './handler.ts';

const config = loadConfigOrExit('bounce-classifier', classifierKeys);
const topics = topicsOf(config);

await runService({
  service: 'bounce-classifier',
  logLevel: config.logLevel,
  httpHost: config.httpHost,
  httpPort: config.httpPort,
  async start({ log, metrics }) {
    const outcomes = metrics.meter.createCounter('mta_attempt_outcomes', { description: 'Attempts qualified, by event, bounce class and category.' });
    let stage: Stage | undefined = undefined;
    stage = new Stage({
      service: 'bounce-classifier',
      kafka: createKafka(config.kafkaBrokers, config.kafkaClientId, log),
      groupId: config.groupId,
      topics: [topics.attempts],
      deadLetterTopic: topics.deadLetter,
      log,
      maxInFlight: config.maxInFlight,
      hooks: stageMetrics(metrics.meter, () => stage?.inFlightCount ?? 0),
      handle: createClassifierHandler({
        topics,
        rules: () => config.rules.rules,
        onClassified: (e) =>
          outcomes.add(1, { event: e.event, bounce_class: String(e.failure?.bounceClass ?? ''), category: e.failure?.category ?? '' }),
      }),
    });
    await stage.start();
    log.info({ topic: topics.attempts, rules: config.rules.path, count: config.rules.rules.length }, 'classifying attempts');
    const s = stage;
    return {
      readiness: () => ({ ready: s.ready, details: { inFlight: s.inFlightCount } }),
      stop: () => s.stop(config.shutdownTimeoutMs),
    };
  },
});
