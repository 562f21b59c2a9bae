import { isIP } from 'node:net';

/**
 * Static routes in the style of Postfix's transport map, from one string such as
 * `example.test=127.0.0.1:2525,.example.test=[::1]:25,*=relay.local:2526`.
 *
 * Pattern (left of `=`):
 * - `example.test`  the domain itself;
 * - `.example.test` any subdomain of example.test (not example.test itself, as in Postfix
 *   without parent_domain_matches_subdomains);
 * - `*`             every other domain.
 *
 * Target (right of `=`): `host`, `host:port`, `[host]`, `[host]:port`, `[ipv6]:port`. The port
 * defaults to 25. A route target is connected to directly: it is never looked up as an MX
 * (brackets are accepted for familiarity, as Postfix's "no MX lookup" form, and mean the same).
 */
export interface Route {
  /** The pattern as written, lower-cased: `example.test`, `.example.test` or `*`. */
  pattern: string;
  kind: 'exact' | 'subdomains' | 'default';
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
}

/** A parsed route table, indexed for lookups. */
export interface Routes {
  readonly list: readonly Route[];
  readonly exact: ReadonlyMap<string, Route>;
  /** Keyed by the parent domain without its leading dot. */
  readonly subdomains: ReadonlyMap<string, Route>;
  readonly fallback: Route | undefined;
}

export type ParsedRoutes = { ok: true; routes: Routes } | { ok: false; errors: string[] };

export const DEFAULT_SMTP_PORT = 25;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const HOST_LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** True for a syntactically valid domain name (letters, digits, hyphens; labels up to 63). */
export function isDomainName(name: string, allowUnderscore = false): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const re = allowUnderscore ? HOST_LABEL : LABEL;
  return name.split('.').every((l) => re.test(l));
}

/** Lower-cases a domain and drops a trailing root dot. */
export function normalizeDomain(domain: string): string {
  const d = domain.trim().toLowerCase();
  return d.endsWith('.') ? d.slice(0, -1) : d;
}

export const EMPTY_ROUTES: Routes = { list: [], exact: new Map(), subdomains: new Map(), fallback: undefined };

/** Parses one pattern; a string is an error message. */
function parsePattern(raw: string): Pick<Route, 'pattern' | 'kind'> | string {
  const p = normalizeDomain(raw);
  if (p === '') return 'empty domain pattern';
  if (p === '*') return { pattern: '*', kind: 'default' };
  if (p.startsWith('*.')) return `pattern "${raw}" is not supported: write ".${p.slice(2)}" for its subdomains`;
  if (p.startsWith('.')) {
    if (!isDomainName(p.slice(1))) return `"${raw}" is not a valid parent domain`;
    return { pattern: p, kind: 'subdomains' };
  }
  if (!isDomainName(p)) return `"${raw}" is not a valid domain`;
  return { pattern: p, kind: 'exact' };
}

function parsePort(raw: string, target: string): number | string {
  if (!/^\d{1,5}$/.test(raw)) return `port "${raw}" of "${target}" is not a number`;
  const port = Number(raw);
  if (port < 1 || port > 65535) return `port ${port} of "${target}" is out of range 1-65535`;
  return port;
}

/** Parses one target; a string is an error message. */
export function parseTarget(raw: string): Pick<Route, 'host' | 'port'> | string {
  const t = raw.trim();
  if (t === '') return 'empty target';
  let host: string;
  let portText: string | undefined;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0) return `"${t}" has "[" without "]"`;
    host = t.slice(1, close);
    const rest = t.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `unexpected "${rest}" after "]" in "${t}"`;
      portText = rest.slice(1);
    }
  } else {
    const colons = t.split(':').length - 1;
    if (colons > 1) return `"${t}": an IPv6 address must be written in brackets, e.g. [::1]:25`;
    const i = t.indexOf(':');
    host = i < 0 ? t : t.slice(0, i);
    portText = i < 0 ? undefined : t.slice(i + 1);
  }
  host = host.toLowerCase();
  if (host === '') return `"${t}" has no host`;
  const ipVersion = isIP(host);
  if (ipVersion === 6 && !t.startsWith('[')) return `"${t}": an IPv6 address must be written in brackets`;
  if (ipVersion === 0 && !isDomainName(normalizeDomain(host), true)) return `"${host}" is neither an IP address nor a host name`;
  let port = DEFAULT_SMTP_PORT;
  if (portText !== undefined) {
    const p = parsePort(portText, t);
    if (typeof p === 'string') return p;
    port = p;
  }
  return { host: ipVersion === 0 ? normalizeDomain(host) : host, port };
}

/** Builds the lookup indexes of a route list (later duplicates are the caller's problem). */
export function indexRoutes(list: Route[]): Routes {
  const exact = new Map<string, Route>();
  const subdomains = new Map<string, Route>();
  let fallback: Route | undefined;
  for (const r of list) {
    if (r.kind === 'exact') exact.set(r.pattern, r);
    else if (r.kind === 'subdomains') subdomains.set(r.pattern.slice(1), r);
    else fallback = r;
  }
  return { list, exact, subdomains, fallback };
}

/**
 * Parses a whole table. Every bad element gets its own message (with its position), so an
 * operator fixes them all at once. Empty elements (`a=b,,c=d`, a trailing comma) are skipped.
 */
export function parseRoutes(text: string): ParsedRoutes {
  const errors: string[] = [];
  const list: Route[] = [];
  const seen = new Set<string>();
  const elements = text.split(',');
  elements.forEach((raw, i) => {
    const el = raw.trim();
    if (el === '') return;
    const where = `route ${i + 1} "${el}"`;
    const eq = el.indexOf('=');
    if (eq < 0) {
      errors.push(`${where}: expected domain=host[:port]`);
      return;
    }
    const pattern = parsePattern(el.slice(0, eq));
    const target = parseTarget(el.slice(eq + 1));
    if (typeof pattern === 'string') errors.push(`${where}: ${pattern}`);
    if (typeof target === 'string') errors.push(`${where}: ${target}`);
    if (typeof pattern === 'string' || typeof target === 'string') return;
    if (seen.has(pattern.pattern)) {
      errors.push(`${where}: "${pattern.pattern}" is already routed by an earlier element`);
      return;
    }
    seen.add(pattern.pattern);
    list.push({ ...pattern, ...target });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, routes: indexRoutes(list) };
}

/**
 * The route for a recipient domain: the exact domain, then its parent domains from the closest
 * (`.b.example.test` before `.example.test` for a.b.example.test), then `*`. Undefined = use MX.
 */
export function routeFor(domain: string, routes: Routes): Route | undefined {
  if (routes.list.length === 0) return undefined;
  const d = normalizeDomain(domain);
  const exact = routes.exact.get(d);
  if (exact) return exact;
  if (routes.subdomains.size > 0) {
    for (let i = d.indexOf('.'); i >= 0; i = d.indexOf('.', i + 1)) {
      const r = routes.subdomains.get(d.slice(i + 1));
      if (r) return r;
    }
  }
  return routes.fallback;
}

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
