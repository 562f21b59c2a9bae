import { loadConfigOrExit, topicsOf } from '@mta/config';
import { runStageService } from '@mta/kafka';
import { attributeSet, createLogger } from '@mta/telemetry';
import { classifierKeys } from './config.ts';
import { createClassifierHandler } from './handler.ts';
import { startIntake } from './listener/start.ts';
import { buildRetries } from './retry/wire.ts';
import { watchRules } from './rules-watch.ts';

const config = loadConfigOrExit('bounce-classifier', classifierKeys);
const topics = topicsOf(config);
const log = createLogger('bounce-classifier', config.logLevel);
const rules = watchRules(config.rules.path, config.rules.rules, { intervalMs: config.rulesReloadMs, log });
// The asynchronous-bounce listener (MTA_BOUNCE_LISTEN) starts before consuming, so /readyz covers it.
const intake = await startIntake(config, topics, rules, log);

await runStageService({
  service: 'bounce-classifier',
  config,
  inputTopic: topics.attempts,
  deadLetterTopic: topics.deadLetter,
  setup({ metrics, log: stageLog }) {
    const outcomes = metrics.meter.createCounter('mta_attempt_outcomes', { description: 'Attempts qualified, by event, bounce class and category.' });
    const outcomeAttrs = attributeSet('event', 'bounce_class', 'category');
    intake?.setMetrics(metrics.meter);
    const retries = buildRetries(config, topics, { metrics, log: stageLog });
    return {
      handle: createClassifierHandler({
        topics,
        rules: () => rules.current(),
        onClassified: (e) => outcomes.add(1, outcomeAttrs(e.event, String(e.failure?.bounceClass ?? ''), e.failure?.category ?? '')),
        retry: retries.scheduler,
      }),
      extraStages: [retries.stage],
      details: () => ({ rules: rules.current().length, ...(intake ? { bounceListener: intake.port } : {}) }),
      close: async () => {
        rules.close();
        await intake?.close();
      },
      describe: {
        rules: config.rules.path,
        count: config.rules.rules.length,
        retryPolicy: config.retryPolicy.path,
        retryTiersMs: config.retryTiers,
        ...(intake ? { bounceListener: intake.port, bounceDomains: config.bounceDomains } : {}),
      },
    };
  },
});
