import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { DkimSignature } from './dkim-sign.ts';

/** A domain name safe to use as a directory name (no `/`, no `..`, no empty label). */
const DOMAIN = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)*$/;
/** `<selector>.pem`; a selector is a dot-separated list of DNS labels (RFC 6376 §3.1). */
const SELECTOR_FILE = /^([A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*)\.pem$/;

interface FileState {
  mtimeMs: number;
  size: number;
  sig?: DkimSignature;
}

interface DomainState {
  checkedAt: number;
  files: Map<string, FileState>;
  keys: DkimSignature[];
  refreshing?: Promise<DkimSignature[]>;
}

export interface DkimKeyStoreOptions {
  /** MTA_DKIM_DIR: `<dir>/<domain>/<selector>.pem`. */
  dir: string;
  /** A domain's directory is looked at again (readdir + stat) at most this often. */
  refreshMs: number;
  now?: () => number;
  /** Told about a key file that cannot be used (unreadable, not a private key, unsupported type). */
  onError?: (file: string, err: Error) => void;
}

/** The key type mailauth can sign with, from the key itself. */
export function keyType(key: KeyObject): 'rsa' | 'ed25519' | undefined {
  const t = key.asymmetricKeyType;
  return t === 'rsa' || t === 'ed25519' ? t : undefined;
}

/**
 * DKIM private keys, read from `<dir>/<domain>/<selector>.pem` (PKCS#1 or PKCS#8 PEM; RSA or
 * Ed25519, as the key says) and parsed once into KeyObjects.
 *
 * Rotation without restart: a domain's directory is listed again when its entry is older than
 * `refreshMs` (the caller keeps using the cached keys while that happens). A file whose mtime
 * and size are unchanged keeps its parsed key; a new or changed file is parsed again; a deleted
 * one is dropped. A file that fails to parse is reported and skipped (the domain's other keys
 * still sign). A domain with no directory has no keys; that answer is cached the same way.
 */
export class DkimKeyStore {
  private readonly domains = new Map<string, DomainState>();
  private readonly now: () => number;

  constructor(private readonly opts: DkimKeyStoreOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The keys of `domain`, every selector (sorted by selector name). */
  async keys(domain: string): Promise<DkimSignature[]> {
    const d = domain.toLowerCase();
    if (!DOMAIN.test(d)) return [];
    const st = this.domains.get(d);
    if (st && this.now() - st.checkedAt < this.opts.refreshMs) return st.keys;
    if (st?.refreshing) return st.refreshing;
    const state: DomainState = st ?? { checkedAt: 0, files: new Map(), keys: [] };
    if (!st) this.domains.set(d, state);
    state.refreshing = this.scan(d, state).finally(() => {
      state.refreshing = undefined;
    });
    return state.refreshing;
  }

  private async scan(domain: string, state: DomainState): Promise<DkimSignature[]> {
    const dir = join(this.opts.dir, domain);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') this.opts.onError?.(dir, err as Error);
      names = [];
    }
    const files = new Map<string, FileState>();
    for (const name of names.sort()) {
      const m = SELECTOR_FILE.exec(name);
      if (!m) continue;
      const file = join(dir, name);
      try {
        const s = await stat(file);
        if (!s.isFile()) continue;
        const prev = state.files.get(name);
        if (prev && prev.mtimeMs === s.mtimeMs && prev.size === s.size) {
          files.set(name, prev);
          continue;
        }
        const key = createPrivateKey(await readFile(file));
        const type = keyType(key);
        if (!type) throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'} (RSA or Ed25519 only)`);
        files.set(name, { mtimeMs: s.mtimeMs, size: s.size, sig: { domain, selector: m[1]!, type, key } });
      } catch (err) {
        this.opts.onError?.(file, err as Error);
      }
    }
    state.files = files;
    state.keys = [...files.values()].flatMap((f) => (f.sig ? [f.sig] : []));
    state.checkedAt = this.now();
    return state.keys;
  }
}
