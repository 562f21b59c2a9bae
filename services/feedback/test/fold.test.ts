import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failure, type EventName, type MtaEvent } from '@mta/contracts';
import { acceptTransition, foldEvent, type MessageState } from '../src/fold.ts';

const hard = failure('hard', 1, 10, 'bad-mailbox', '550 5.1.1 user unknown');
const soft = failure('soft', 5, 22, 'quota-issues', '452 4.2.2 mailbox full');
const softAsync = failure('soft', 20, 50, 'policy-related', 'later soft');

function ev(event: EventName, attempt: number, f = event === 'hard_bounce' || event === 'async_bounce' ? hard : event === 'soft_bounce' ? soft : undefined): MtaEvent {
  return { v: 1, messageId: 'm', deliveryId: 'd', recipient: 'a@b.example', event, attempt, timestamp: '2026-11-29T10:00:00.000Z', ...(f ? { failure: f } : {}) };
}

/** Folds a sequence, returning what Campaign would read: [status, event, failureReason?] per publication. */
function run(events: MtaEvent[]): string[] {
  let s: MessageState | undefined;
  const out: string[] = [];
  for (const e of events) {
    const r = foldEvent(s, e);
    s = r.state;
    if (r.publish) out.push([r.publish.status, r.publish.event, r.publish.failureReason].filter(Boolean).join(' '));
  }
  return out;
}

test('status lifecycle as BRIEF §2 says', () => {
  const rows: [string, MtaEvent[], string[]][] = [
    ['delivered', [ev('accepted', 0), ev('delivered', 1)], ['taken_into_account accepted', 'sent delivered']],
    ['hard bounce', [ev('accepted', 0), ev('hard_bounce', 1)], ['taken_into_account accepted', 'failed hard_bounce User unknown']],
    [
      'soft then delivered',
      [ev('accepted', 0), ev('soft_bounce', 1), ev('soft_bounce', 2), ev('delivered', 3)],
      ['taken_into_account accepted', 'taken_into_account soft_bounce Mailbox full', 'taken_into_account soft_bounce Mailbox full', 'sent delivered'],
    ],
    ['expired', [ev('accepted', 0), ev('soft_bounce', 1), ev('expired', 1, failure('soft', 3, 24, 'message-expired', 'x'))], ['taken_into_account accepted', 'taken_into_account soft_bounce Mailbox full', 'failed expired Unreachable']],
    ['rejected', [ev('rejected', 0, failure('ignored', 25, 25, 'rejected-header-injection', 'x'))], ['failed rejected Error ignored']],
    ['async hard bounce after sent', [ev('accepted', 0), ev('delivered', 1), ev('async_bounce', 1)], ['taken_into_account accepted', 'sent delivered', 'failed async_bounce User unknown']],
    ['async soft bounce after sent keeps sent', [ev('delivered', 1), ev('async_bounce', 1, softAsync)], ['sent delivered', 'sent async_bounce Refused']],
    ['complaint keeps the outcome', [ev('delivered', 1), ev('complaint', 1, failure('hard', 8, 90, 'complaint', 'abuse report'))], ['sent delivered', 'sent complaint Denylisted address']],
    ['a complaint is always "Denylisted address"', [ev('delivered', 1), ev('complaint', 1, failure('soft', 20, 51, 'spam-related', 'ARF abuse'))], ['sent delivered', 'sent complaint Denylisted address']],
    ['complaint without a qualification', [ev('accepted', 0), ev('delivered', 1), ev('complaint', 1)], ['taken_into_account accepted', 'sent delivered', 'sent complaint Denylisted address']],
    ['complaint after failed keeps failed', [ev('hard_bounce', 1), ev('complaint', 1)], ['failed hard_bounce User unknown', 'failed complaint Denylisted address']],
  ];
  for (const [name, events, expected] of rows) assert.deepEqual(run(events), expected, name);
});

test('duplicates and replays never publish twice', () => {
  const rows: [string, MtaEvent[], string[]][] = [
    ['duplicate accepted', [ev('accepted', 0), ev('accepted', 0)], ['taken_into_account accepted']],
    ['duplicate delivered', [ev('accepted', 0), ev('delivered', 1), ev('delivered', 1)], ['taken_into_account accepted', 'sent delivered']],
    ['duplicate soft bounce', [ev('soft_bounce', 1), ev('soft_bounce', 1)], ['taken_into_account soft_bounce Mailbox full']],
    ['duplicate hard', [ev('hard_bounce', 1), ev('hard_bounce', 1)], ['failed hard_bounce User unknown']],
    [
      'whole lifecycle replayed',
      [ev('accepted', 0), ev('soft_bounce', 1), ev('delivered', 2), ev('accepted', 0), ev('soft_bounce', 1), ev('delivered', 2)],
      ['taken_into_account accepted', 'taken_into_account soft_bounce Mailbox full', 'sent delivered'],
    ],
    ['duplicate async hard bounce', [ev('delivered', 1), ev('async_bounce', 1), ev('async_bounce', 1)], ['sent delivered', 'failed async_bounce User unknown']],
    ['duplicate async soft bounce', [ev('delivered', 1), ev('async_bounce', 1, softAsync), ev('async_bounce', 1, softAsync)], ['sent delivered', 'sent async_bounce Refused']],
    [
      'duplicate complaint',
      [ev('delivered', 1), ev('complaint', 1, failure('hard', 8, 90, 'complaint', 'x')), ev('complaint', 1, failure('hard', 8, 90, 'complaint', 'x'))],
      ['sent delivered', 'sent complaint Denylisted address'],
    ],
    ['duplicate rejected', [ev('rejected', 0, failure('ignored', 25, 25, 'x', 'x')), ev('rejected', 0, failure('ignored', 25, 25, 'x', 'x'))], ['failed rejected Error ignored']],
  ];
  for (const [name, events, expected] of rows) assert.deepEqual(run(events), expected, name);
});

test('reordering never regresses a final status', () => {
  const rows: [string, MtaEvent[], string[]][] = [
    ['accepted after delivered', [ev('delivered', 1), ev('accepted', 0)], ['sent delivered']],
    ['soft bounce after delivered', [ev('delivered', 2), ev('soft_bounce', 1)], ['sent delivered']],
    ['older soft bounce after newer', [ev('soft_bounce', 2), ev('soft_bounce', 1)], ['taken_into_account soft_bounce Mailbox full']],
    ['delivered after failed', [ev('hard_bounce', 1), ev('delivered', 1)], ['failed hard_bounce User unknown']],
    ['expired after sent', [ev('delivered', 1), ev('expired', 1, failure('soft', 3, 24, 'message-expired', 'x'))], ['sent delivered']],
    ['async bounce after failed', [ev('hard_bounce', 1), ev('async_bounce', 1)], ['failed hard_bounce User unknown']],
    ['delivered before accepted', [ev('delivered', 1), ev('accepted', 0), ev('soft_bounce', 1)], ['sent delivered']],
    ['hard bounce before accepted', [ev('hard_bounce', 1), ev('accepted', 0)], ['failed hard_bounce User unknown']],
    ['soft bounce before accepted', [ev('soft_bounce', 1), ev('accepted', 0), ev('delivered', 2)], ['taken_into_account soft_bounce Mailbox full', 'sent delivered']],
    ['async hard bounce before delivered', [ev('accepted', 0), ev('async_bounce', 1), ev('delivered', 1)], ['taken_into_account accepted', 'failed async_bounce User unknown']],
    ['complaint before delivered', [ev('accepted', 0), ev('complaint', 1, failure('hard', 8, 90, 'complaint', 'x')), ev('delivered', 1)], ['taken_into_account accepted', 'taken_into_account complaint Denylisted address', 'sent delivered']],
    ['expired after failed', [ev('rejected', 0, failure('ignored', 25, 25, 'x', 'x')), ev('expired', 1, failure('soft', 3, 24, 'message-expired', 'x'))], ['failed rejected Error ignored']],
  ];
  for (const [name, events, expected] of rows) assert.deepEqual(run(events), expected, name);
});

test('a state rebuilt from the published records folds replayed events exactly like the original', () => {
  const sequences: MtaEvent[][] = [
    [ev('accepted', 0), ev('soft_bounce', 1), ev('soft_bounce', 2), ev('delivered', 3), ev('async_bounce', 3)],
    [ev('accepted', 0), ev('delivered', 1), ev('async_bounce', 1, softAsync), ev('complaint', 1, failure('hard', 8, 90, 'complaint', 'x'))],
    [ev('delivered', 1), ev('accepted', 0), ev('hard_bounce', 2)],
  ];
  for (const events of sequences) {
    let original: MessageState | undefined;
    const published: MessageState[] = [];
    let rebuilt: MessageState | undefined;
    for (const e of events) {
      const r = foldEvent(original, e);
      original = r.state;
      if (r.publish) {
        rebuilt = acceptTransition(rebuilt, r.publish) ?? rebuilt;
        published.push(original!);
        // Applying a record to the state it produced is not news.
        assert.equal(acceptTransition(original, r.publish), undefined);
      }
    }
    assert.deepEqual(rebuilt, original);
    for (const e of events) assert.equal(foldEvent(rebuilt, e).publish, undefined, `replayed ${e.event} publishes nothing`);
  }
});
