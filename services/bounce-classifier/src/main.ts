import { loadConfigOrExit, topicsOf } from '@mta/config';
import { runStageService } from '@mta/kafka';
import { classifierKeys } from './config.ts';
import { createClassifierHandler } from './handler.ts';
import { buildRetries } from './retry/wire.ts';

const config = loadConfigOrExit('bounce-classifier', classifierKeys);
const topics = topicsOf(config);

await runStageService({
  service: 'bounce-classifier',
  config,
  inputTopic: topics.attempts,
  deadLetterTopic: topics.deadLetter,
  setup({ metrics, log }) {
    const outcomes = metrics.meter.createCounter('mta_attempt_outcomes', { description: 'Attempts qualified, by event, bounce class and category.' });
    const retries = buildRetries(config, topics, { metrics, log });
    return {
      handle: createClassifierHandler({
        topics,
        rules: () => config.rules.rules,
        onClassified: (e) => outcomes.add(1, { event: e.event, bounce_class: String(e.failure?.bounceClass ?? ''), category: e.failure?.category ?? '' }),
        retry: retries.scheduler,
      }),
      extraStages: [retries.stage],
      describe: { rules: config.rules.path, count: config.rules.rules.length, retryPolicy: config.retryPolicy.path, retryTiersMs: config.retryTiers },
    };
  },
});
