/**
 * The configuration schema of each service, read from its own source (services/<name>/src/config.ts
 * plus the shared commonKeys), so deployment files can be checked against what the code declares.
 */
import { readFileSync } from 'node:fs';
import { commonKeys, type Key, type Spec } from '@mta/config';
import type { TopicId } from '@mta/contracts';
import { ROOT, type ServiceName } from '@mta/testkit';

const isKey = (v: unknown): v is Key<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as Key<unknown>).env === 'string' && typeof (v as Key<unknown>).parse === 'function';

/** commonKeys plus every key object exported by the service's config.ts. */
export async function serviceSpec(name: ServiceName): Promise<Spec> {
  const mod = (await import(`${ROOT}services/${name}/src/config.ts`)) as Record<string, unknown>;
  const spec: Spec = { ...commonKeys(name, 0) };
  for (const value of Object.values(mod)) {
    if (typeof value !== 'object' || value === null) continue;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > 0 && entries.every(([, v]) => isKey(v))) Object.assign(spec, value);
  }
  return spec;
}

/** The environment variable names a spec declares. */
export const envNames = (spec: Spec): Set<string> => new Set(Object.values(spec).map((k) => k.env));

/** The topic a service consumes, from its entry point (`inputTopic: topics.<id>`). */
export function inputTopicOf(name: ServiceName): TopicId {
  const main = readFileSync(`${ROOT}services/${name}/src/main.ts`, 'utf8');
  const m = /inputTopic:\s*topics\.(\w+)/.exec(main);
  if (!m) throw new Error(`services/${name}/src/main.ts names no inputTopic`);
  return m[1] as TopicId;
}

export interface TopicDecl {
  id: TopicId;
  name: string;
  partitions: number;
}
export const topicsJson = (): TopicDecl[] => (JSON.parse(readFileSync(`${ROOT}deploy/topics.json`, 'utf8')) as { topics: TopicDecl[] }).topics;

/** Names in `used` that the service's schema does not declare. */
export async function unknownEnv(name: ServiceName, used: Iterable<string>): Promise<string[]> {
  const known = envNames(await serviceSpec(name));
  return [...used].filter((e) => !known.has(e)).sort();
}
