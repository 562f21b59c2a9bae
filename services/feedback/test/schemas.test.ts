import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROOT } from '@mta/testkit';
import { failure } from '@mta/contracts';
import { foldEvent } from '../src/fold.ts';
import { renderSchemas } from '../src/json-schemas.ts';
import { MessageStore } from '../src/message-store.ts';
import { StatusView } from '../src/view.ts';

const files = renderSchemas();
const read = (file: string) => readFileSync(`${ROOT}schemas/${file}`, 'utf8');

test('schemas/*.schema.json are up to date with libs/contracts (run `npm run schemas -w @mta/feedback`)', () => {
  for (const [file, text] of files) assert.equal(read(file), text, `schemas/${file} is stale`);
});

test('the published schemas accept what feedback produces and refuse what it never does (checked by Ajv, as an analyst would)', () => {
  const ajv = new Ajv2020({ strict: false });
  const status = ajv.compile(JSON.parse(read('mta.status.v1.schema.json')));
  const kpis = ajv.compile(JSON.parse(read('mta.delivery-kpis.v1.schema.json')));
  const event = ajv.compile(JSON.parse(read('mta.events.v1.schema.json')));
  const e = {
    v: 1 as const,
    messageId: 'm1',
    deliveryId: 'd1',
    recipient: 'a@example.com',
    event: 'hard_bounce' as const,
    attempt: 1,
    timestamp: '2026-11-29T10:00:00.000Z',
    failure: failure('hard', 1, 10, 'bad-mailbox', '550 5.1.1 unknown'),
  };
  assert.ok(event(e), JSON.stringify(event.errors));
  const record = foldEvent(undefined, e).publish!;
  assert.ok(status(record), JSON.stringify(status.errors));
  assert.equal(status({ ...record, status: 'bounced' }), false, 'unknown status');
  assert.equal(status({ ...record, extra: 1 }), false, 'no undeclared fields');
  const view = new StatusView(new MessageStore(10), { maxDeliveries: 10, maxDomainsPerDelivery: 10 });
  view.apply(record);
  const snapshot = view.get('d1')!;
  assert.ok(kpis(snapshot), JSON.stringify(kpis.errors));
  assert.equal(kpis({ ...snapshot, successRate: 120 }), false, 'a percentage is at most 100');
  assert.equal(kpis({ ...snapshot, byDomain: { 'example.com': { messages: 1 } } }), false, 'domain rows are complete');
});
