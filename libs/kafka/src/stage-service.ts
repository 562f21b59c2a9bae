import { runService, stageMetrics, type RuntimeContext } from '@mta/telemetry';
import type { FastifyInstance } from 'fastify';
import { createKafka } from './client.ts';
import { Stage, type Handler } from './stage.ts';

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
}

export interface StageServiceParts {
  handle: Handler;
  /** Extra fields for /readyz. */
  details?(): Record<string, unknown>;
  /** Runs after the stage stopped (close pools, timers). */
  close?(): Promise<void>;
  /** Logged once consuming: what this instance does. */
  describe?: Record<string, unknown>;
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
      let stage: Stage | undefined = undefined;
      stage = new Stage({
        service: opts.service,
        kafka: createKafka(config.kafkaBrokers, config.kafkaClientId, ctx.log),
        groupId: config.groupId,
        topics: [opts.inputTopic],
        deadLetterTopic: opts.deadLetterTopic,
        log: ctx.log,
        maxInFlight: config.maxInFlight,
        hooks: stageMetrics(ctx.metrics.meter, {
          inFlight: () => stage?.inFlightCount ?? 0,
          oldestInFlightSeconds: () => stage?.oldestInFlightSeconds() ?? 0,
          lag: () => stage?.consumerLag() ?? [],
        }),
        handle: parts.handle,
      });
      await stage.start();
      ctx.log.info({ topic: opts.inputTopic, brokers: config.kafkaBrokers, ...parts.describe }, `${opts.service} consuming`);
      const s = stage;
      return {
        readiness: () => ({ ready: s.ready, details: { inFlight: s.inFlightCount, ...parts.details?.() } }),
        stop: async () => {
          await s.stop(config.shutdownTimeoutMs);
          await parts.close?.();
        },
      };
    },
  });
}
