import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { foldEvent } from '../src/fold.ts';
import { MessageStore } from '../src/message-store.ts';
import { feedbackRoutes } from '../src/routes.ts';
import { StatusView } from '../src/view.ts';

function setup(rebuilt = true) {
  const view = new StatusView(new MessageStore(100), { maxDeliveries: 10, maxDomainsPerDelivery: 10 });
  const state = { rebuilt };
  const app = Fastify();
  feedbackRoutes({ view, rebuilt: () => state.rebuilt, now: () => Date.parse('2026-11-29T10:00:09Z') })(app);
  const publish = (messageId: string, deliveryId: string, event: 'accepted' | 'delivered', attempt: number) =>
    view.apply(foldEvent(undefined, { v: 1, messageId, deliveryId, recipient: 'a@example.com', event, attempt, timestamp: '2026-11-29T10:00:05.000Z' }).publish!);
  return { app, view, state, publish };
}

test('GET /deliveries and /deliveries/:id serve the KPIs; 404 for an unknown delivery', async () => {
  const { app, publish } = setup();
  publish('m1', 'd1', 'delivered', 1);
  publish('m2', 'd2', 'accepted', 0);
  const list = await app.inject('/deliveries');
  assert.equal(list.statusCode, 200);
  assert.deepEqual((list.json() as { deliveries: { deliveryId: string }[] }).deliveries.map((d) => d.deliveryId), ['d2', 'd1']);
  const limited = (await app.inject('/deliveries?limit=1&summary=1')).json() as { deliveries: Record<string, unknown>[] };
  assert.deepEqual(limited.deliveries.map((d) => d.deliveryId), ['d2']);
  assert.equal(limited.deliveries[0]!.byDomain, undefined, 'a summary leaves out the tables');
  assert.equal(limited.deliveries[0]!.messages, 1);
  const one = await app.inject('/deliveries/d1');
  assert.equal(one.statusCode, 200);
  assert.equal(one.json().sent, 1);
  assert.equal(one.json().successRate, 100);
  assert.equal((await app.inject('/deliveries/nope')).statusCode, 404);
});

test('while the state is rebuilt the KPIs answer 503 instead of partial numbers', async () => {
  const { app, state } = setup(false);
  assert.equal((await app.inject('/deliveries')).statusCode, 503);
  assert.equal((await app.inject('/deliveries/d1')).statusCode, 503);
  state.rebuilt = true;
  assert.equal((await app.inject('/deliveries')).statusCode, 200);
});

test('the dashboard is one self-contained page; / leads to it; throughput is a series', async () => {
  const { app, publish } = setup();
  publish('m1', 'd1', 'delivered', 1);
  const page = await app.inject('/dashboard');
  assert.equal(page.statusCode, 200);
  assert.match(page.headers['content-type'] as string, /^text\/html/);
  assert.doesNotMatch(page.body, /<(script|link|img)[^>]+(src|href)=["']?https?:/i, 'nothing loaded from elsewhere');
  const root = await app.inject('/');
  assert.equal(root.statusCode, 302);
  assert.equal(root.headers.location, '/dashboard');
  const t = (await app.inject('/throughput?points=3&step=5')).json() as { stepSeconds: number; points: { t: number; sent: number }[] };
  assert.equal(t.points.length, 3);
  assert.equal(t.points.at(-1)!.t, Date.parse('2026-11-29T10:00:05Z'));
  assert.equal(t.points.at(-1)!.sent, 1);
});
