import { loadConfigOrExit, topicsOf } from '@mta/config';
import { runStageService } from '@mta/kafka';
import { throttleKeys } from './config.ts';
import { createThrottleHandler } from './handler.ts';
import { Limiter } from './limiter.ts';

const config = loadConfigOrExit('throttle', throttleKeys);
const topics = topicsOf(config);
const limiter = new Limiter();

await runStageService({
  service: 'throttle',
  config,
  inputTopic: topics.queue,
  deadLetterTopic: topics.deadLetter,
  routes: (app) => {
    app.get('/queues', async () => ({ waiting: Object.fromEntries(limiter.queued()) }));
  },
  setup({ metrics }) {
    const released = metrics.meter.createCounter('mta_throttle_released', { description: 'Messages released to the sender.' });
    const expired = metrics.meter.createCounter('mta_throttle_expired', { description: 'Messages whose validity ended while waiting.' });
    metrics.meter
      .createObservableGauge('mta_throttle_waiting', { description: "Messages waiting for their domain's token." })
      .addCallback((r) => r.observe(limiter.waiting));
    const sweeper = setInterval(() => limiter.sweep(), 60_000);
    return {
      handle: createThrottleHandler({
        topics,
        limiter,
        rules: () => config.rules.rules,
        onReleased: () => released.add(1),
        onExpired: () => expired.add(1),
      }),
      details: () => ({ waiting: limiter.waiting }),
      close: async () => clearInterval(sweeper),
      describe: { rules: config.rules.path },
    };
  },
});
