import { loadConfigOrExit, topicsOf } from '@mta/config';
import { runStageService } from '@mta/kafka';
import { classifierKeys } from './config.ts';
import { createClassifierHandler } from './handler.ts';

const config = loadConfigOrExit('bounce-classifier', classifierKeys);
const topics = topicsOf(config);

await runStageService({
  service: 'bounce-classifier',
  config,
  inputTopic: topics.attempts,
  deadLetterTopic: topics.deadLetter,
  setup({ metrics }) {
    const outcomes = metrics.meter.createCounter('mta_attempt_outcomes', { description: 'Attempts qualified, by event, bounce class and category.' });
    return {
      handle: createClassifierHandler({
        topics,
        rules: () => config.rules.rules,
        onClassified: (e) => outcomes.add(1, { event: e.event, bounce_class: String(e.failure?.bounceClass ?? ''), category: e.failure?.category ?? '' }),
      }),
      describe: { rules: config.rules.path, count: config.rules.rules.length },
    };
  },
});
