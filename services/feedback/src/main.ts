import { loadConfigOrExit, topicsOf } from '@mta/config';
import { createKafka, Stage } from '@mta/kafka';
import { runService, stageMetrics } from '@mta/telemetry';
import { feedbackKeys } from './config.ts';
import { createFeedbackHandler } from './handler.ts';
import { StateStore } from './state-store.ts';

const config = loadConfigOrExit('feedback', feedbackKeys);
const topics = topicsOf(config);

await runService({
  service: 'feedback',
  logLevel: config.logLevel,
  httpHost: config.httpHost,
  httpPort: config.httpPort,
  async start({ log, metrics }) {
    const published = metrics.meter.createCounter('mta_status_published', { description: 'Status records published to Campaign, by status and event.' });
    const store = new StateStore(config.stateEntries);
    metrics.meter.createObservableGauge('mta_feedback_messages_tracked', { description: 'Messages whose state is in memory.' }).addCallback((r) => r.observe(store.size));
    let stage: Stage | undefined = undefined;
    stage = new Stage({
      service: 'feedback',
      kafka: createKafka(config.kafkaBrokers, config.kafkaClientId, log),
      groupId: config.groupId,
      topics: [topics.events],
      deadLetterTopic: topics.deadLetter,
      log,
      maxInFlight: config.maxInFlight,
      hooks: stageMetrics(metrics.meter, () => stage?.inFlightCount ?? 0),
      handle: createFeedbackHandler({ topics, store, onPublished: (status, event) => published.add(1, { status, event }) }),
    });
    await stage.start();
    log.info({ topic: topics.events, status: topics.status }, 'publishing statuses');
    const s = stage;
    return {
      readiness: () => ({ ready: s.ready, details: { inFlight: s.inFlightCount, tracked: store.size } }),
      stop: () => s.stop(config.shutdownTimeoutMs),
    };
  },
});
