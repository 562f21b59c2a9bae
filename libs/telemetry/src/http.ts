import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';

export interface Readiness {
  ready: boolean;
  details?: Record<string, unknown>;
}

export interface HttpOptions {
  service: string;
  metrics: Metrics;
  readiness: () => Readiness;
  /** Service-specific routes (operator endpoints). */
  routes?: (app: FastifyInstance) => void;
}

/** The operability surface every service has: /healthz (alive), /readyz (consuming), /metrics. */
export function buildHttp(opts: HttpOptions): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok', service: opts.service }));
  app.get('/readyz', async (_req, reply) => {
    const r = opts.readiness();
    return reply.code(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not ready', service: opts.service, ...r.details });
  });
  app.get('/metrics', async (_req, reply) => {
    const text = await opts.metrics.render();
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });
  opts.routes?.(app);
  return app;
}
