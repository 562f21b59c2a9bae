import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failure, type EventName, type MtaEvent } from '@mta/contracts';
import { foldEvent, type MessageState } from '../src/fold.ts';

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
  ];
  for (const [name, events, expected] of rows) assert.deepEqual(run(events), expected, name);
});

test('duplicates and replays never publish twice', () => {
  const rows: [string, MtaEvent[], string[]][] = [
    ['duplicate accepted', [ev('accepted', 0), ev('accepted', 0)], ['taken_into_account accepted']],
    ['duplicate delivered', [ev('accepted', 0), ev('delivered', 1), ev('delivered', 1)], ['taken_into_account accepted', 'sent delivered']],
    ['duplicate soft bounce', [ev('soft_bounce', 1), ev('soft_bounce', 1)], ['taken_into_account soft_bounce Mailbox full']],
    ['duplicate hard', [ev('hard_bounce', 1), ev('hard_bounce', 1)], ['failed hard_bounce User unknown']],
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
  ];
  for (const [name, events, expected] of rows) assert.deepEqual(run(events), expected, name);
});
