/**
 * CPU each service uses per second while idle (connected, in its groups, no records): the fixed
 * cost that a bench run spreads over its messages. Fresh topics, the five bundles as processes.
 *
 *   KAFKA_BROKERS=127.0.0.1:19092 node --import tsx bench/idle-cost.ts
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatProfiles, summarizeProfile, type ProfileSummary } from './profile.ts';
import { TOPIC_ENV } from '@mta/config';
import type { Topics } from '@mta/contracts';
import { freshTopics, SERVICES, startService, testKafka, type ServiceProcess } from '@mta/testkit';

const cpu = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // ms
};
const kafka = testKafka('idle-cost');
const admin = kafka.admin();
await admin.connect();
const topics: Topics = await freshTopics(admin, 6);
const env: Record<string, string> = { KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:19092', MTA_ROUTES: '*=127.0.0.1:9', MTA_THROTTLE_SITE: 'domain', MTA_MTA_STS: 'false' };
for (const [id, name] of Object.entries(topics)) env[TOPIC_ENV[id as keyof Topics]] = name;
const services: ServiceProcess[] = [];
let window: { fromUs: number; toUs: number } | undefined;
try {
  for (const s of SERVICES) services.push(await startService(s, { ...env, MTA_GROUP_ID: `idle-${s}-${Date.now()}` }));
  await new Promise((r) => setTimeout(r, 5000)); // past start-up
  const seconds = Number(process.env.IDLE_SECONDS ?? 15);
  const before = services.map((s) => cpu(s.child.pid!));
  const fromUs = Number(process.hrtime.bigint() / 1000n);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
  services.forEach((s, i) => console.log(`${s.name.padEnd(18)} ${((cpu(s.child.pid!) - before[i]!) / seconds).toFixed(1)} ms CPU per second idle`));
} finally {
  await Promise.all(services.map((s) => s.stop()));
  // With MTA_PROFILE_DIR: what the idle services spend it on.
  const dir = process.env.MTA_PROFILE_DIR;
  if (dir && window) {
    const profiles: Record<string, ProfileSummary> = {};
    for (const s of SERVICES) if (existsSync(join(dir, `${s}.cpuprofile`))) profiles[s] = summarizeProfile(join(dir, `${s}.cpuprofile`), 15, window);
    console.log(formatProfiles(profiles, 6, 12));
  }
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
}
