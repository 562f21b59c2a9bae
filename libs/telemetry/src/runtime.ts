import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildHttp, type Readiness } from './http.ts';
import { createLogger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { startTracing } from './tracing.ts';

export interface Running {
  readiness(): Readiness;
  stop(): Promise<void>;
}

export interface RuntimeContext {
  log: Logger;
  metrics: Metrics;
}

/**
 * Entry-point scaffolding shared by the five services: logger, metrics, tracing, HTTP surface, and a
 * graceful shutdown on SIGTERM/SIGINT (stop consuming, finish in-flight, commit, exit 0).
 */
export async function runService(opts: {
  service: string;
  logLevel: string;
  httpHost: string;
  httpPort: number;
  start(ctx: RuntimeContext): Promise<Running>;
  /** Service-specific HTTP routes, registered before listening. */
  routes?: (app: FastifyInstance) => void;
}): Promise<void> {
  const log = createLogger(opts.service, opts.logLevel);
  const metrics = createMetrics(opts.service);
  // Before anything consumes: spans (when configured) and trace-context propagation (always).
  const tracing = startTracing(opts.service);
  let running: Running | undefined;
  const app = buildHttp({
    service: opts.service,
    metrics,
    readiness: () => running?.readiness() ?? { ready: false, details: { phase: 'starting' } },
    ...(opts.routes ? { routes: opts.routes } : {}),
  });
  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down: no more fetching, finishing in-flight work');
    try {
      await running?.stop();
      await app.close();
      await metrics.shutdown();
      await tracing.shutdown();
      log.info('stopped cleanly');
      process.exit(0);
    } catch (err) {
      log.error({ err: (err as Error).stack }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => log.error({ err: String((err as Error)?.stack ?? err) }, 'unhandled rejection'));
  const address = await app.listen({ host: opts.httpHost, port: opts.httpPort });
  if (tracing.mode !== 'none') log.info({ traces: tracing.mode }, 'exporting traces');
  log.info({ http: address }, `${opts.service} HTTP on ${address} (/healthz, /readyz, /metrics)`);
  try {
    running = await opts.start({ log, metrics });
  } catch (err) {
    log.fatal({ err: (err as Error).stack }, 'start failed');
    process.exit(1);
  }
  log.info({ http: address }, `${opts.service} started`);
}
