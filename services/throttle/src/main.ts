import { loadConfigOrExit, topicsOf } from '@mta/config';
import { createKafka, Stage } from '@mta/kafka';
import { runService, stageMetrics } from '@mta/telemetry';
import { throttleKeys } from './config.ts';
import { createThrottleHandler } from './handler.ts';
import { Limiter } from './limiter.ts';

const config = loadConfigOrExit('throttle', throttleKeys);
const topics = topicsOf(config);
const limiter = new Limiter();

await runService({
  service: 'throttle',
  logLevel: config.logLevel,
  httpHost: config.httpHost,
  httpPort: config.httpPort,
  routes: (app) => {
    app.get('/queues', async () => ({ waiting: Object.fromEntries(limiter.queued()) }));
  },
  async start({ log, metrics }) {
    const released = metrics.meter.createCounter('mta_throttle_released', { description: 'Messages released to the sender.' });
    const expired = metrics.meter.createCounter('mta_throttle_expired', { description: 'Messages whose validity ended while waiting.' });
    metrics.meter
      .createObservableGauge('mta_throttle_waiting', { description: 'Messages waiting for their domain\'s token.' })
      .addCallback((r) => r.observe(limiter.waiting));
    const sweeper = setInterval(() => limiter.sweep(), 60_000);
    let stage: Stage | undefined = undefined;
    stage = new Stage({
      service: 'throttle',
      kafka: createKafka(config.kafkaBrokers, config.kafkaClientId, log),
      groupId: config.groupId,
      topics: [topics.queue],
      deadLetterTopic: topics.deadLetter,
      log,
      maxInFlight: config.maxInFlight,
      hooks: stageMetrics(metrics.meter, () => stage?.inFlightCount ?? 0),
      handle: createThrottleHandler({
        topics,
        limiter,
        rules: () => config.rules.rules,
        onReleased: () => released.add(1),
        onExpired: () => expired.add(1),
      }),
    });
    await stage.start();
    log.info({ topic: topics.queue, rules: config.rules.path }, 'shaping the queue');
    const s = stage;
    return {
      readiness: () => ({ ready: s.ready, details: { inFlight: s.inFlightCount, waiting: limiter.waiting } }),
      stop: async () => {
        clearInterval(sweeper);
        await s.stop(config.shutdownTimeoutMs);
      },
    };
  },
});
