import { isDomainName, normalizeDomain } from './routes.ts';

/**
 * How a connection uses TLS:
 * - `opportunistic`: STARTTLS when the peer offers it, any certificate, plain text if the
 *   upgrade fails (RFC 3207 as practised on port 25);
 * - `required`: STARTTLS must succeed or the host fails over; the certificate is not verified
 *   (encryption against passive listeners only, Postfix's `encrypt` level);
 * - `mta-sts`: STARTTLS must succeed with a certificate that chains to a trusted CA and names
 *   the MX host, and the MX host must be listed in the domain's MTA-STS policy (RFC 8461);
 * - `disabled`: never STARTTLS (for peers whose TLS is broken).
 */
export type TlsMode = 'opportunistic' | 'required' | 'mta-sts' | 'disabled';
export type ConfiguredTls = Exclude<TlsMode, 'mta-sts'>;

export interface TlsPolicies {
  exact: ReadonlyMap<string, ConfiguredTls>;
  /** Keyed by the parent domain (pattern `.example.org` matches its subdomains). */
  subdomains: ReadonlyMap<string, ConfiguredTls>;
}

const MODES: readonly ConfiguredTls[] = ['opportunistic', 'required', 'disabled'];

/**
 * Parses MTA_TLS_POLICY: `gmail.com=required,.example.org=disabled`: `domain=mode` for a
 * domain, `.parent=mode` for its subdomains (as MTA_ROUTES). Every bad element is reported.
 */
export function parseTlsPolicies(raw: string): { ok: true; policies: TlsPolicies } | { ok: false; errors: string[] } {
  const exact = new Map<string, ConfiguredTls>();
  const subdomains = new Map<string, ConfiguredTls>();
  const errors: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      errors.push(`"${item}": expected domain=${MODES.join('|')}`);
      continue;
    }
    const pattern = normalizeDomain(item.slice(0, eq));
    const mode = item.slice(eq + 1).trim().toLowerCase() as ConfiguredTls;
    if (!MODES.includes(mode)) errors.push(`"${item}": mode must be one of ${MODES.join(', ')}`);
    const sub = pattern.startsWith('.');
    const name = sub ? pattern.slice(1) : pattern;
    if (!isDomainName(name)) errors.push(`"${item}": "${pattern}" is not a domain or .parent pattern`);
    const map = sub ? subdomains : exact;
    if (map.has(name)) errors.push(`"${pattern}" is given twice`);
    map.set(name, mode);
  }
  return errors.length ? { ok: false, errors } : { ok: true, policies: { exact, subdomains } };
}

/** The mode configured for a domain: exact match, then the closest `.parent` pattern; undefined when none matches. */
export function configuredTls(domain: string, policies: TlsPolicies | undefined): ConfiguredTls | undefined {
  if (!policies) return undefined;
  const d = normalizeDomain(domain);
  const exact = policies.exact.get(d);
  if (exact) return exact;
  for (let i = d.indexOf('.'); i >= 0; i = d.indexOf('.', i + 1)) {
    const m = policies.subdomains.get(d.slice(i + 1));
    if (m) return m;
  }
  return undefined;
}

/**
 * The mode of a delivery: an MTA-STS `enforce` policy wins over a configured `opportunistic`
 * or `required`; an explicit `disabled` for the domain still wins (the operator's escape hatch
 * for a receiver whose TLS is broken; RFC 8461 leaves local policy to the sender).
 */
export function effectiveTls(explicit: ConfiguredTls | undefined, fallback: ConfiguredTls, stsEnforced: boolean): TlsMode {
  if (explicit === 'disabled') return 'disabled';
  if (stsEnforced) return 'mta-sts';
  return explicit ?? fallback;
}

/**
 * The mode of a delivery whose shaping rule asks for a TLS policy (`Delivery.tls`): it replaces
 * the default (MTA_SMTP_TLS), but MTA_TLS_POLICY's own entry for the domain still wins (so an
 * explicit `required` is never weakened) and an MTA-STS `enforce` policy is never weakened.
 */
export function deliveryTls(explicit: ConfiguredTls | undefined, requested: ConfiguredTls | undefined, fallback: ConfiguredTls, stsEnforced: boolean): TlsMode {
  return effectiveTls(explicit, explicit === undefined && requested !== undefined ? requested : fallback, stsEnforced);
}
