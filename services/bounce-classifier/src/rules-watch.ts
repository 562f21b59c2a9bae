import { statSync } from 'node:fs';
import { checkSamples, loadRuleFile, type Rule, type RuleError } from './rules.ts';

/**
 * The rules in force, reloaded without a restart when the file changes. The file's mtime and
 * size are polled (`intervalMs`): robust to editors that replace the file (a rename, which
 * fs.watch loses) and to files on network or container volumes. A reload with errors keeps the
 * last good rules and logs every error with its line number; a good reload logs its rule count
 * and any rule shadowed by an earlier one.
 */
export interface RuleSource {
  current(): readonly Rule[];
  /** Reads the file now if it changed; returns what happened. */
  check(): ReloadResult;
  close(): void;
}

export type ReloadResult =
  | { status: 'unchanged' }
  | { status: 'reloaded'; count: number; shadowed: number }
  | { status: 'rejected'; errors: RuleError[] }
  | { status: 'unreadable'; error: string };

export interface RuleLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export function watchRules(path: string, initial: readonly Rule[], opts: { intervalMs: number; log: RuleLog; onReload?(r: ReloadResult): void }): RuleSource {
  let rules = initial;
  let stamp = stampOf(path);
  const check = (): ReloadResult => {
    const now = stampOf(path);
    if (now === stamp) return { status: 'unchanged' };
    stamp = now;
    let result: ReloadResult;
    try {
      const loaded = loadRuleFile(path);
      if (loaded.errors.length > 0) {
        result = { status: 'rejected', errors: loaded.errors };
        opts.log.error({ path, errors: loaded.errors.map((e) => `line ${e.line}: ${e.message}`) }, `rules file has ${loaded.errors.length} error(s); keeping the ${rules.length} rules in force`);
      } else {
        const { shadowed, unmatched } = checkSamples(loaded.rules);
        rules = Object.freeze(loaded.rules);
        result = { status: 'reloaded', count: rules.length, shadowed: shadowed.length };
        opts.log.info({ path, rules: rules.length }, 'rules reloaded');
        if (shadowed.length || unmatched.length) {
          opts.log.warn(
            {
              path,
              shadowed: shadowed.map((s) => `line ${s.rule.line} is shadowed by line ${s.by.line} for "${s.sample}"`),
              unmatched: unmatched.map((s) => `line ${s.rule.line} does not match its sample "${s.sample}"`),
            },
            'rules reloaded with shadowed rules or unmatched samples',
          );
        }
      }
    } catch (err) {
      result = { status: 'unreadable', error: (err as Error).message };
      opts.log.error({ path, err: (err as Error).message }, 'rules file unreadable; keeping the rules in force');
    }
    opts.onReload?.(result);
    return result;
  };
  const timer = opts.intervalMs > 0 ? setInterval(check, opts.intervalMs) : undefined;
  timer?.unref();
  return {
    current: () => rules,
    check,
    close: () => {
      if (timer) clearInterval(timer);
    },
  };
}

function stampOf(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'missing';
  }
}
