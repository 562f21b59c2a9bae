/**
 * Configuration keys declared as data: environment name, description, default and parser.
 * A parser throws an Error whose message says what is wrong with the value.
 */
export interface Key<T> {
  env: string;
  description: string;
  /** Raw default, parsed like a user value. Absent = required. */
  default?: string;
  /** When true the key may be absent and parses to undefined. */
  optional?: boolean;
  parse(raw: string): T;
}

export type Spec = Record<string, Key<unknown>>;
export type ConfigOf<S extends Spec> = { [K in keyof S]: S[K] extends Key<infer T> ? T : never };

export const str = (env: string, description: string, def?: string): Key<string> => ({
  env,
  description,
  ...(def === undefined ? {} : { default: def }),
  parse(raw) {
    if (raw.trim() === '') throw new Error('must not be empty');
    return raw;
  },
});

export const optionalStr = (env: string, description: string): Key<string | undefined> => ({
  env,
  description,
  optional: true,
  parse: (raw) => (raw === '' ? undefined : raw),
});

export const int = (env: string, description: string, def: number | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): Key<number> => ({
  env,
  description,
  ...(def === undefined ? {} : { default: String(def) }),
  parse(raw) {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`must be an integer, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  },
});

export const num = (env: string, description: string, def: number, min = 0, max = Number.MAX_VALUE): Key<number> => ({
  env,
  description,
  default: String(def),
  parse(raw) {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new Error(`must be a number, got "${raw}"`);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${n}`);
    return n;
  },
});

export const bool = (env: string, description: string, def: boolean): Key<boolean> => ({
  env,
  description,
  default: String(def),
  parse(raw) {
    const v = raw.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new Error(`must be true or false, got "${raw}"`);
  },
});

export const oneOf = <T extends string>(env: string, description: string, values: readonly T[], def: T): Key<T> => ({
  env,
  description,
  default: def,
  parse(raw) {
    if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  },
});

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** Comma-separated host:port list, e.g. KAFKA_BROKERS. */
export const hostPorts = (env: string, description: string, def?: string): Key<string[]> => ({
  env,
  description,
  ...(def === undefined ? {} : { default: def }),
  parse(raw) {
    const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
    if (items.length === 0) throw new Error('must list at least one host:port');
    for (const item of items) {
      const m = HOST_PORT.exec(item);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`"${item}" is not host:port`);
    }
    return items;
  },
});
