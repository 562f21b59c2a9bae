import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commonKeys, int, type Key } from '@mta/config';
import { parseLimitRules, type LimitRules } from './limits.ts';

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../limits.default.yaml', import.meta.url));

const rulesFile: Key<{ path: string; rules: LimitRules }> = {
  env: 'MTA_THROTTLE_RULES',
  description: 'YAML file of per-domain limits (messagesPerSecond, burst, maxConnections, messagesPerConnection).',
  default: DEFAULT_RULES_FILE,
  parse(path) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`cannot be read: ${(err as Error).message}`);
    }
    const parsed = parseLimitRules(text);
    if (!parsed.ok) throw new Error(`has errors: ${parsed.errors.join('; ')}`);
    return { path, rules: parsed.rules };
  },
};

export const throttleKeys = {
  ...commonKeys('throttle', 8082),
  rules: rulesFile,
  maxInFlight: int('MTA_MAX_IN_FLIGHT', 'Messages held waiting for their domain\'s token before consumption waits (bounds memory).', 50000, 1),
};
