import type { FastifyInstance } from 'fastify';
import { DASHBOARD_HTML } from './dashboard.ts';
import type { StatusView } from './view.ts';

export interface RouteDeps {
  view: StatusView;
  /** False while the state is being rebuilt from mta.status (numbers would be partial). */
  rebuilt(): boolean;
  now?(): number;
}

/** Operator and dashboard endpoints of feedback: the delivery KPIs and the page that shows them. */
export function feedbackRoutes(deps: RouteDeps) {
  const now = deps.now ?? Date.now;
  const rebuilding = { status: 'rebuilding', message: 'state is being rebuilt from the status topic; retry shortly' };
  return (app: FastifyInstance): void => {
    // ?limit=N (default 100) most recently updated; ?summary=1 leaves out byReason and byDomain.
    app.get<{ Querystring: { limit?: string; summary?: string } }>('/deliveries', async (req, reply) => {
      if (!deps.rebuilt()) return reply.code(503).send(rebuilding);
      const limit = Math.min(Math.max(Number(req.query.limit) || 100, 1), 100_000);
      const list = deps.view.list(limit);
      if (req.query.summary !== '1') return { deliveries: list };
      return { deliveries: list.map(({ byReason: _r, byDomain: _d, ...summary }) => summary) };
    });
    app.get<{ Params: { id: string } }>('/deliveries/:id', async (req, reply) => {
      if (!deps.rebuilt()) return reply.code(503).send(rebuilding);
      const kpis = deps.view.get(req.params.id);
      if (!kpis) return reply.code(404).send({ status: 'not found', deliveryId: req.params.id });
      return kpis;
    });
    app.get<{ Querystring: { points?: string; step?: string } }>('/throughput', async (req) => {
      const points = Math.min(Math.max(Number(req.query.points) || 60, 1), 720);
      const step = Math.min(Math.max(Number(req.query.step) || 5, 1), 3600);
      return { stepSeconds: step, points: deps.view.throughput.series(now(), points, step) };
    });
    app.get('/dashboard', async (_req, reply) => reply.type('text/html; charset=utf-8').send(DASHBOARD_HTML));
    app.get('/', async (_req, reply) => reply.redirect('/dashboard'));
  };
}
