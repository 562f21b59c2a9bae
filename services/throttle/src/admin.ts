import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ShapingRules } from '@mta/shaping';
import type { Limiter } from './limiter.ts';
import type { Lane, Selector, Shaper } from './shaper.ts';

const iso = (ms: number) => (ms > 0 ? new Date(ms).toISOString() : null);

function laneView(shaper: Shaper, limiter: Limiter, l: Lane) {
  const lim = shaper.limits(l);
  const s = l.state;
  return {
    key: l.key,
    sourceIp: l.ip,
    site: l.site,
    provider: l.resolved.provider ?? null,
    ...(l.domain ? { domain: l.domain } : {}),
    layers: l.resolved.layers,
    limits: { messagesPerSecond: lim.messagesPerSecond, burst: lim.burst, maxConnections: lim.maxConnections, messagesPerConnection: lim.messagesPerConnection, tls: lim.tls },
    rules: { messagesPerSecond: l.ctx.knobs.messagesPerSecond, adaptive: l.ctx.adaptive },
    state: s.suspendedUntil > Date.now() ? 'suspended' : s.disabledUntil > Date.now() ? 'ip-disabled' : 'active',
    suspendedUntil: iso(lim.suspendedUntil),
    disabledUntil: iso(lim.disabledUntil),
    phase: s.phase,
    lastHealthyRate: s.lastGood > 0 ? s.lastGood : null,
    lastChange: { at: iso(s.changedAt), reason: s.reason },
    sinceLastChange: s.since,
    sentToday: s.sentToday,
    queued: limiter.queued().get(l.key) ?? 0,
  };
}

/**
 * Operator surface: reads are open (like /metrics), changes need `Authorization: Bearer
 * <MTA_ADMIN_TOKEN>` (and are refused when no token is configured).
 *   GET  /shaping/lanes[?provider=&site=&ip=]  limits, state and the reason of the last change
 *   GET  /shaping/providers                     rules per provider, with their lanes' current rates
 *   GET  /queues                                waiting messages per lane
 *   POST /shaping/suspend {provider|site|key, ip?, durationS}
 *   POST /shaping/resume  {provider|site|key, ip?}
 */
export function adminRoutes(deps: { shaper: Shaper; limiter: Limiter; rules: () => ShapingRules; token: string | undefined }) {
  const { shaper, limiter } = deps;
  const authorized = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (!deps.token) {
      void reply.code(403).send({ error: 'changes are disabled: set MTA_ADMIN_TOKEN' });
      return false;
    }
    const got = Buffer.from(req.headers.authorization ?? '');
    const want = Buffer.from(`Bearer ${deps.token}`);
    if (got.length !== want.length || !timingSafeEqual(got, want)) {
      void reply.code(401).send({ error: 'missing or wrong bearer token' });
      return false;
    }
    return true;
  };
  type Sel = { key?: string; site?: string; provider?: string; ip?: string; durationS?: number; by?: string };
  const selectorOf = (b: Sel): Selector => {
    const sel: Selector = {};
    for (const k of ['key', 'site', 'provider', 'ip'] as const) if (typeof b[k] === 'string') sel[k] = b[k];
    return sel;
  };
  const selection = (b: Sel, reply: FastifyReply): Lane[] | undefined => {
    if (typeof b.key !== 'string' && typeof b.site !== 'string' && typeof b.provider !== 'string') {
      void reply.code(400).send({ error: 'give provider, site or key (and optionally ip)' });
      return undefined;
    }
    return shaper.select(selectorOf(b));
  };
  return (app: FastifyInstance) => {
    app.get('/shaping/lanes', async (req) => {
      const q = req.query as { provider?: string; site?: string; ip?: string };
      const sel: { provider?: string; site?: string; ip?: string } = {};
      if (q.provider) sel.provider = q.provider;
      if (q.site) sel.site = q.site;
      if (q.ip) sel.ip = q.ip;
      return { lanes: shaper.select(sel).map((l) => laneView(shaper, limiter, l)) };
    });
    app.get('/shaping/providers', async () => {
      const rules = deps.rules();
      return {
        providers: rules.providers.map((p) => ({
          name: p.name,
          match: p.match,
          knobs: { ...rules.defaults, ...p.knobs },
          automation: p.automation.map((a) => ({ id: a.id, pattern: a.pattern.source, trigger: a.trigger, action: a.action, durationS: a.durationS })),
          lanes: shaper.select({ provider: p.name }).map((l) => ({ key: l.key, messagesPerSecond: shaper.limits(l).messagesPerSecond, reason: l.state.reason })),
        })),
      };
    });
    app.get('/queues', async () => ({ waiting: Object.fromEntries(limiter.queued()) }));
    app.post('/shaping/suspend', async (req, reply) => {
      if (!authorized(req, reply)) return reply;
      const b = (req.body ?? {}) as Sel;
      if (typeof b.durationS !== 'number' || !(b.durationS > 0)) return reply.code(400).send({ error: 'durationS: a positive number of seconds' });
      const lanes = selection(b, reply);
      if (!lanes) return reply;
      // Applied here and broadcast on the state topic: every throttle instance suspends its own lanes of the selection.
      const here = shaper.operator('suspend', selectorOf(b), b.by ?? '', b.durationS);
      return { suspended: here.map((l) => l.key), until: new Date(Date.now() + b.durationS * 1000).toISOString() };
    });
    app.post('/shaping/resume', async (req, reply) => {
      if (!authorized(req, reply)) return reply;
      const b = (req.body ?? {}) as Sel;
      const lanes = selection(b, reply);
      if (!lanes) return reply;
      const here = shaper.operator('resume', selectorOf(b), b.by ?? '');
      return { resumed: here.map((l) => l.key) };
    });
  };
}
