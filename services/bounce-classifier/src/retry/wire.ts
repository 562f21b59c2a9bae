import type { Topics } from '@mta/contracts';
import { createKafka, DelayStage, type ExtraStage, type LogSink } from '@mta/kafka';
import type { Metrics } from '@mta/telemetry';
import type { RetryPolicy } from '@mta/retry';
import { createReleaseHandler, notBeforeOf } from './release.ts';
import { createRetryScheduler, type RetryScheduler } from './schedule.ts';

export interface RetryWiringConfig {
  kafkaBrokers: string[];
  kafkaClientId: string;
  groupId: string;
  retryPolicy: { path: string; policy: RetryPolicy };
  retryTiers: number[];
}

/** The tier topics, shortest delay first (MTA_RETRY_TIERS gives their delays in this order). */
export const tierTopicsOf = (t: Topics): string[] => [t.retry2m, t.retry10m, t.retry30m, t.retry2h, t.retry4h];

/**
 * Everything retries need inside the bounce-classifier process: the scheduler its handler calls
 * on soft bounces, and the delay-topic stage (its own consumer group, `<group>.retry`) that
 * releases due retries to the queue.
 */
export function buildRetries(config: RetryWiringConfig, topics: Topics, ctx: { metrics: Metrics; log: LogSink }): { scheduler: RetryScheduler; stage: ExtraStage } {
  const meter = ctx.metrics.meter;
  const decisions = meter.createCounter('mta_retry_decisions', { description: 'What became of soft bounces: retry, wait-for-expiry, expired, exhausted, unschedulable.' });
  const releases = meter.createCounter('mta_retry_releases', { description: 'Retry records released by their tier: queued, retiered, expired, duplicate.' });
  const tierTopics = tierTopicsOf(topics);
  const scheduler = createRetryScheduler({
    eventsTopic: topics.events,
    tierTopics,
    tierDelaysMs: config.retryTiers,
    policy: () => config.retryPolicy.policy,
    onDecision: (kind) => decisions.add(1, { decision: kind }),
  });
  const delay = new DelayStage({
    service: 'bounce-classifier',
    name: 'retry',
    kafka: createKafka(config.kafkaBrokers, `${config.kafkaClientId}-retry`, ctx.log),
    groupId: `${config.groupId}.retry`,
    topics: tierTopics,
    deadLetterTopic: topics.deadLetter,
    log: ctx.log,
    notBefore: notBeforeOf(tierTopics, config.retryTiers),
    handle: createReleaseHandler({
      topics,
      tierTopics,
      tierDelaysMs: config.retryTiers,
      onRelease: (kind) => releases.add(1, { kind }),
    }),
  });
  meter
    .createObservableGauge('mta_retry_held_partitions', { description: 'Delay-topic partitions paused until their head record is due.' })
    .addCallback((r) => r.observe(delay.heldPartitions().length));
  meter
    .createObservableGauge('mta_retry_overdue_seconds', { description: 'How late the most overdue held retry is past its release time (should stay near 0).', unit: 's' })
    .addCallback((r) => r.observe(delay.overdueMs() / 1000));
  const stage: ExtraStage = {
    name: 'retry',
    get ready() {
      return delay.ready;
    },
    start: () => delay.start(),
    stop: (t) => delay.stop(t),
    oldest: () => delay.oldest(),
  };
  return { scheduler, stage };
}
