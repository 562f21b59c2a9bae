import { runService, stageMetrics, watchdogMetrics, type RuntimeContext } from '@mta/telemetry';
import type { FastifyInstance } from 'fastify';
import { createKafka } from './client.ts';
import { Stage, type Handler, type StageOptions } from './stage.ts';

/** The configuration every stage service has (from `commonKeys` plus its own maxInFlight). */
export interface StageServiceConfig {
  kafkaBrokers: string[];
  kafkaClientId: string;
  groupId: string;
  logLevel: string;
  httpHost: string;
  httpPort: number;
  shutdownTimeoutMs: number;
  maxInFlight: number;
  /** With `laneOf`: records of one lane handled at once (default a tenth of maxInFlight). */
  maxInFlightPerLane?: number;
}

export interface StageServiceParts {
  handle: Handler;
  /** Extra fields for /readyz. */
  details?(): Record<string, unknown>;
  /** False while the parts' own start-up runs (e.g. state being replayed): /readyz answers 503 until then. */
  ready?(): boolean;
  /** Runs after the stage stopped (close pools, timers). */
  close?(): Promise<void>;
  /** Logged once consuming: what this instance does. */
  describe?: Record<string, unknown>;
  /** The lane of a record: a full lane parks or requeues its records instead of stopping the others (see Stage). */
  laneOf?: StageOptions['laneOf'];
  /** More stages in the same process (e.g. the retry delay topics), started after the main one. */
  extraStages?: ExtraStage[];
}

/** A stage run beside the main one (see DelayStage). */
export interface ExtraStage {
  readonly name: string;
  readonly ready: boolean;
  start(): Promise<void>;
  stop(timeoutMs: number): Promise<void>;
  /** For the watchdog gauge: when its oldest held message entered the stage (ms since epoch). */
  oldest?(): number | undefined;
}

/**
 * A service's whole entry point: logs, metrics, HTTP, one Stage consuming `inputTopic`, and the
 * graceful SIGTERM path. Services only provide their handler (built from `setup`).
 */
export async function runStageService(opts: {
  service: string;
  config: StageServiceConfig;
  inputTopic: string;
  deadLetterTopic: string;
  routes?: (app: FastifyInstance) => void;
  setup(ctx: RuntimeContext): StageServiceParts;
}): Promise<void> {
  const { config } = opts;
  await runService({
    service: opts.service,
    logLevel: config.logLevel,
    httpHost: config.httpHost,
    httpPort: config.httpPort,
    ...(opts.routes ? { routes: opts.routes } : {}),
    async start(ctx) {
      const parts = opts.setup(ctx);
      const extras = parts.extraStages ?? [];
      let stage: Stage | undefined = undefined;
      watchdogMetrics(ctx.metrics.meter, () => [
        { stage: opts.service, oldest: () => stage?.oldestInFlightProducedAt() },
        ...extras.map((x) => ({ stage: `${opts.service}/${x.name}`, oldest: () => x.oldest?.() })),
      ]);
      stage = new Stage({
        service: opts.service,
        kafka: createKafka(config.kafkaBrokers, config.kafkaClientId, ctx.log),
        groupId: config.groupId,
        topics: [opts.inputTopic],
        deadLetterTopic: opts.deadLetterTopic,
        log: ctx.log,
        maxInFlight: config.maxInFlight,
        ...(parts.laneOf ? { laneOf: parts.laneOf } : {}),
        ...(config.maxInFlightPerLane !== undefined ? { maxInFlightPerLane: config.maxInFlightPerLane } : {}),
        hooks: stageMetrics(ctx.metrics.meter, {
          inFlight: () => stage?.inFlightCount ?? 0,
          oldestInFlightSeconds: () => stage?.oldestInFlightSeconds() ?? 0,
          lag: () => stage?.consumerLag() ?? [],
        }),
        handle: parts.handle,
      });
      await stage.start();
      for (const x of extras) await x.start();
      ctx.log.info({ topic: opts.inputTopic, brokers: config.kafkaBrokers, ...parts.describe }, `${opts.service} consuming`);
      const s = stage;
      return {
        readiness: () => ({ ready: s.ready && extras.every((x) => x.ready) && (parts.ready?.() ?? true), details: { inFlight: s.inFlightCount, ...parts.details?.() } }),
        stop: async () => {
          await Promise.all([s.stop(config.shutdownTimeoutMs), ...extras.map((x) => x.stop(config.shutdownTimeoutMs))]);
          await parts.close?.();
        },
      };
    },
  });
}
