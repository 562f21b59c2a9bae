import { fileURLToPath } from 'node:url';
import { commonKeys, int, type Key } from '@mta/config';
import { bounceKeys } from './listener/config.ts';
import { loadRuleFile, SHIPPED_RULES_URL, type Rule } from './rules.ts';
import { retryKeys } from './retry/config.ts';

const rulesFile: Key<{ path: string; rules: readonly Rule[] }> = {
  env: 'MTA_BOUNCE_RULES',
  description: 'Rules file classifying SMTP replies (format at the top of the shipped rules.txt).',
  default: fileURLToPath(SHIPPED_RULES_URL),
  parse(path) {
    let loaded;
    try {
      loaded = loadRuleFile(path);
    } catch (err) {
      throw new Error(`cannot be read: ${(err as Error).message}`);
    }
    if (loaded.errors.length) throw new Error(`has errors: ${loaded.errors.map((e) => `line ${e.line}: ${e.message}`).join('; ')}`);
    return { path, rules: loaded.rules };
  },
};

export const classifierKeys = {
  ...commonKeys('bounce-classifier', 8084),
  rules: rulesFile,
  maxInFlight: int('MTA_MAX_IN_FLIGHT', 'Attempts handled at once before consumption waits.', 5000, 1),
  ...retryKeys,
  ...bounceKeys,
};
