/**
 * The dashboard in a real browser: Debian's Chromium, headless, driven by playwright-core (no
 * browser download), against the feedback bundle on the real Kafka. Asserts what a person sees
 * change as events arrive, and keeps a screenshot in test-artifacts/dashboard.png.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import type { Admin, Producer } from 'kafkajs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { failure, type EventName, type MtaEvent, type Topics } from '@mta/contracts';
import { TOPIC_ENV } from '@mta/config';
import { freshTopics, ROOT, startService, testKafka, type ServiceProcess } from '@mta/testkit';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const kafka = testKafka('feedback-dashboard');
const run = randomUUID().slice(0, 8);
let admin: Admin;
let producer: Producer;
let topics: Topics;
let svc: ServiceProcess;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  admin = kafka.admin();
  await admin.connect();
  topics = await freshTopics(admin, 3);
  const env: Record<string, string> = { KAFKA_BROKERS: process.env.KAFKA_BROKERS!, MTA_GROUP_ID: `fb-ui-${run}`, MTA_FEEDBACK_KPI_INTERVAL_MS: '200' };
  for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
  svc = await startService('feedback', env);
  producer = kafka.producer();
  await producer.connect();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--disable-gpu', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  await producer?.disconnect();
  await admin?.disconnect();
  assert.equal(await svc?.stop(), 0);
});

const ev = (id: string, event: EventName, attempt: number, to: string, f?: MtaEvent['failure']): MtaEvent => ({
  v: 1,
  messageId: `${run}-${id}`,
  deliveryId: `spring-sale-${run}`,
  recipient: to,
  event,
  attempt,
  timestamp: new Date().toISOString(),
  ...(f ? { failure: f } : {}),
});

async function produce(events: MtaEvent[]): Promise<void> {
  await producer.send({ topic: topics.events, messages: events.map((e) => ({ key: e.messageId, value: JSON.stringify(e) })) });
}

const card = (page: Page, kpi: string) => page.locator(`.card[data-kpi="${kpi}"] .value`);

/** Waits until the card shows `text` (the page polls once a second). */
async function expectCard(page: Page, kpi: string, text: string): Promise<void> {
  const expr = `document.querySelector('.card[data-kpi="${kpi}"] .value')?.textContent === ${JSON.stringify(text)}`;
  await page.waitForFunction(expr, undefined, { timeout: 20000 });
  assert.equal(await card(page, kpi).textContent(), text, kpi);
}

test('the dashboard shows a delivery live: KPI cards, status counts, reasons, domains, throughput', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.goto(`http://127.0.0.1:${svc.port}/`);
  assert.equal(await page.title(), 'Enhanced MTA · deliveries');

  await produce([
    ev('m1', 'accepted', 0, 'alice@example.com'),
    ev('m2', 'accepted', 0, 'bob@example.com'),
    ev('m3', 'accepted', 0, 'hard@gmail.example'),
    ev('m4', 'accepted', 0, 'full@gmail.example'),
  ]);
  await expectCard(page, 'messages', '4');
  await expectCard(page, 'takenIntoAccount', '4');
  await expectCard(page, 'successRate', '0 %');
  assert.equal(await page.locator('[data-testid=selected-delivery]').textContent(), `spring-sale-${run}`);

  // Results arrive: the cards change without a reload.
  const url = page.url();
  await produce([
    ev('m1', 'delivered', 1, 'alice@example.com'),
    ev('m2', 'delivered', 1, 'bob@example.com'),
    ev('m3', 'hard_bounce', 1, 'hard@gmail.example', failure('hard', 1, 10, 'bad-mailbox', '550 5.1.1 User unknown')),
    ev('m4', 'soft_bounce', 1, 'full@gmail.example', failure('soft', 5, 22, 'quota-issues', '452 4.2.2 Mailbox full')),
  ]);
  await expectCard(page, 'sent', '2');
  await expectCard(page, 'failed', '1');
  await expectCard(page, 'successRate', '50 %');
  await expectCard(page, 'bounceRate', '25 %');
  await expectCard(page, 'softBounces', '1');
  await expectCard(page, 'takenIntoAccount', '1');
  assert.equal(page.url(), url, 'no reload');

  assert.equal(await page.locator('#count-hard').textContent(), '1');
  const reasons = await page.locator('#reasons tbody tr').allTextContents();
  assert.deepEqual(reasons, ['User unknown10', 'Mailbox full01']);
  const domains = await page.locator('#domains tbody tr').evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent)));
  assert.deepEqual(domains, [
    ['example.com', '2', '2', '0', '0', '100 %'],
    ['gmail.example', '2', '0', '1', '1', '0 %'],
  ]);
  const deliveries = await page.locator('#deliveries tbody tr td:first-child').allTextContents();
  assert.ok(deliveries.includes(`spring-sale-${run}`));
  // The chart's "sent" line has left the baseline.
  const points = (await page.locator('polyline[data-series="sent"]').getAttribute('points')) ?? '';
  const ys = points.split(' ').map((p) => Number(p.split(',')[1]));
  assert.ok(Math.min(...ys) < Math.max(...ys), 'sent throughput is drawn');

  mkdirSync(`${ROOT}test-artifacts`, { recursive: true });
  await page.screenshot({ path: `${ROOT}test-artifacts/dashboard.png`, fullPage: true });
  assert.ok(existsSync(`${ROOT}test-artifacts/dashboard.png`));
});
