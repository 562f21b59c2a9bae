import type { ConfigOf, Spec } from './keys.ts';

export type Loaded<S extends Spec> = { ok: true; config: ConfigOf<S> } | { ok: false; errors: string[] };

/** Parses every key, collecting one message per bad key instead of stopping at the first. */
export function loadConfig<S extends Spec>(spec: S, env: Record<string, string | undefined>): Loaded<S> {
  const errors: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(spec)) {
    const given = env[key.env];
    const raw = given ?? key.default;
    if (raw === undefined) {
      if (key.optional) {
        config[name] = undefined;
        continue;
      }
      errors.push(`${key.env} is required: ${key.description}`);
      continue;
    }
    try {
      config[name] = key.parse(raw);
    } catch (err) {
      errors.push(`${key.env}=${JSON.stringify(raw)} ${(err as Error).message} (${key.description})`);
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, config: config as ConfigOf<S> };
}

/** For entry points: load or print every problem and exit with status 78 (EX_CONFIG). */
export function loadConfigOrExit<S extends Spec>(service: string, spec: S, env = process.env): ConfigOf<S> {
  const loaded = loadConfig(spec, env);
  if (loaded.ok) return loaded.config;
  process.stderr.write(`${service}: invalid configuration\n${loaded.errors.map((e) => `  - ${e}`).join('\n')}\n`);
  process.exit(78);
}

/** Markdown table of a spec, for docs and `--help`. */
export function describeConfig(spec: Spec): string {
  const rows = Object.values(spec).map(
    (k) => `| \`${k.env}\` | ${k.default === undefined ? (k.optional ? '(unset)' : '**required**') : `\`${k.default}\``} | ${k.description} |`,
  );
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
