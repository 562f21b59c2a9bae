import type { Attributes } from '@opentelemetry/api';
import { createRequire } from 'node:module';

/**
 * Metric attributes without the SDK's per-record hashing.
 *
 * On every `add`/`record`, @opentelemetry/sdk-metrics turns the attributes into their map key by
 * sorting the keys and `JSON.stringify`-ing the pairs (`hashAttributes`): ~1 µs, done for each of
 * the ~10 metric records of a message across the services (3–5 % of the sender's, classifier's
 * and feedback's CPU in `npm run bench` profiles). Hot call sites instead take their attribute
 * objects from an `attributeSet`: one frozen object per combination of values, carrying the
 * SDK's own hash of it (computed once, by the SDK's function), which `patchAttributeHash` makes
 * the SDK read instead of computing it again. The metrics are the same; any other attributes
 * object is hashed as before.
 */
const HASH = Symbol.for('mta.otel.attributesHash');
type Hashed = Attributes & { [HASH]?: string };
type HashFn = (a: Attributes) => string;

const require = createRequire(import.meta.url);
let original: HashFn | undefined;

function sdkUtils(): { hashAttributes: HashFn } | undefined {
  try {
    return require('@opentelemetry/sdk-metrics/build/src/utils.js') as { hashAttributes: HashFn };
  } catch {
    return undefined;
  }
}

/**
 * Makes the metrics SDK use the hash an `attributeSet` object carries. Must run before the
 * MeterProvider is created (its attribute maps take the function when they are built):
 * `createMetrics` does. Returns false when the SDK's layout is not the expected one (then every
 * record is hashed by the SDK, as shipped).
 */
export function patchAttributeHash(): boolean {
  const utils = sdkUtils();
  if (!utils || typeof utils.hashAttributes !== 'function') return false;
  if (original) return true;
  const sdkHash = utils.hashAttributes;
  original = sdkHash;
  utils.hashAttributes = function hashAttributes(a: Attributes): string {
    return (a as Hashed)[HASH] ?? sdkHash(a);
  };
  return true;
}

/** The SDK's hash of `a` (the function as shipped), or a stable stand-in without the SDK. */
function hashOf(a: Attributes): string {
  const fn = original ?? sdkUtils()?.hashAttributes;
  return fn ? fn(a) : JSON.stringify(Object.keys(a).sort().map((k) => [k, a[k]]));
}

/** Combinations kept per set; past it, plain objects (hashed by the SDK per record). */
const MAX_COMBINATIONS = 4096;

/**
 * Attribute objects for `keys`, one per combination of values: `set('ok', 'gmail')` gives
 * `{ outcome: 'ok', site: 'gmail' }` for `attributeSet('outcome', 'site')`, the same frozen object
 * every time.
 */
export function attributeSet<K extends string>(...keys: K[]): (...values: string[]) => Attributes {
  const root = new Map<string, unknown>();
  let size = 0;
  const build = (values: string[]): Attributes => {
    const a: Attributes = {};
    for (let i = 0; i < keys.length; i++) a[keys[i]!] = values[i] ?? '';
    return a;
  };
  return (...values: string[]): Attributes => {
    let node = root;
    for (let i = 0; i < keys.length - 1; i++) {
      const v = values[i] ?? '';
      let next = node.get(v) as Map<string, unknown> | undefined;
      if (!next) {
        if (size >= MAX_COMBINATIONS) return build(values);
        next = new Map();
        node.set(v, next);
      }
      node = next;
    }
    const last = values[keys.length - 1] ?? '';
    let a = node.get(last) as Attributes | undefined;
    if (!a) {
      if (size >= MAX_COMBINATIONS) return build(values);
      a = build(values);
      Object.defineProperty(a, HASH, { value: hashOf(a), enumerable: false });
      Object.freeze(a);
      node.set(last, a);
      size++;
    }
    return a;
  };
}
