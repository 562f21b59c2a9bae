import { context } from '@opentelemetry/api';
import { hostPort } from './routes.ts';
import type { CommandObserver } from './smtp-commands.ts';
import { SmtpPool, type ConnectionOptions, type PoolEnvelope, type PoolSendInfo } from './smtp-pool.ts';
import type { TlsMode } from './tls-policy.ts';

/** Where to connect, and the limits the throttle set for that destination. */
export interface TransportTarget {
  /** Address (or host name) to connect to. */
  host: string;
  port: number;
  /** The mail host's name, for TLS SNI when `host` is an address. */
  servername?: string | undefined;
  maxConnections: number;
  /** Messages sent over one connection before it is replaced. */
  maxMessages: number;
  /** TLS of the connection (default: the cache's `tls` option). */
  tls?: TlsMode | undefined;
  /** Local address to connect from (IP pools); absent = the OS picks. */
  localAddress?: string | undefined;
  /** EHLO name for this source address (default: the cache's `ehloName`). */
  ehloName?: string | undefined;
}

/** What a successful send says: the DATA reply, per-recipient outcomes, the session's TLS. */
export type SendInfo = PoolSendInfo;

/**
 * A message for a pool: the envelope (`use8BitMime` adds BODY=8BITMIME when the peer offers it)
 * and the finished bytes; `site` labels its command latencies.
 */
export interface PoolMessage {
  envelope: PoolEnvelope;
  raw: Buffer;
  site?: string | undefined;
  /** Validity end (ms since epoch): not sent if still queued for a connection then (EEXPIRED). */
  notAfter?: number | undefined;
}

export interface TransportCacheOptions {
  /** Name sent with EHLO/HELO. */
  ehloName: string;
  /** Default TLS of targets that do not say (`none` = `disabled`). */
  tls: 'opportunistic' | 'none' | TlsMode;
  /** Trusted CAs for verified (MTA-STS) connections instead of the system store (tests). */
  ca?: string | Buffer | undefined;
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  /**
   * Deadline of one message from handing it to the pool to the final reply (0 = none). The
   * other timeouts are per phase and reset by any traffic; this one bounds a peer that trickles
   * its DATA replies (or bytes) forever. On expiry the connection carrying it is closed.
   */
  messageTimeoutMs?: number;
  /** A pool (and a pooled connection) unused for this long is closed. Default 60 s. */
  idleCloseMs?: number;
  /** Times the pool re-sends a message whose connection closed under it. Default 1. */
  maxRequeues?: number;
  /** Told about each SMTP command of each message (per-command spans and latencies). */
  observer?: CommandObserver | undefined;
  now?: () => number;
}

interface Entry {
  pool: SmtpPool;
  lastUsed: number;
  pending: number;
}

const closedError = () => Object.assign(new Error('sender is shutting down'), { code: 'ECONNECTION', command: 'CONN' });

/**
 * SMTP connection pools (`smtp-pool.ts`), one per source address, destination and limits
 * (`src>host:port/maxConn/maxMsgs/tls/servername`), created on first use and reused by every
 * later message: connections stay open across messages (up to maxMessages each). Pools unused
 * for `idleCloseMs` are closed; `closeAll` drains them at shutdown.
 */
export class TransportCache {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly idleCloseMs: number;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly opts: TransportCacheOptions) {
    this.idleCloseMs = opts.idleCloseMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), Math.max(1000, Math.floor(this.idleCloseMs / 2)));
    this.sweeper.unref();
  }

  static keyOf(t: TransportTarget): string {
    const from = t.localAddress ? `${t.localAddress}>` : '';
    return `${from}${hostPort(t.host, t.port)}/${t.maxConnections}/${t.maxMessages}/${t.tls ?? ''}/${t.servername ?? ''}`;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Open connections over all pools (connecting, idle or busy). */
  connectionCount(): number {
    let n = 0;
    for (const e of this.entries.values()) n += e.pool.connectionCount();
    return n;
  }

  /** Sends one message through the destination's pool. Rejects with nodemailer's error shape. */
  send(target: TransportTarget, message: PoolMessage): Promise<SendInfo> {
    return this.dispatch(target, message, false);
  }

  /**
   * Sends one message whose envelope has a non-ASCII address, refusing it (553 5.6.7, before
   * MAIL FROM) when the peer does not offer SMTPUTF8: nodemailer adds the SMTPUTF8 parameter
   * when the peer offers it but sends the address anyway when it does not, which RFC 6531 §3.4
   * forbids.
   */
  sendRequiringSmtpUtf8(target: TransportTarget, message: PoolMessage): Promise<SendInfo> {
    return this.dispatch(target, message, true);
  }

  private async dispatch(target: TransportTarget, message: PoolMessage, requireSmtpUtf8: boolean): Promise<SendInfo> {
    if (this.closed) throw closedError();
    const entry = this.entry(target);
    entry.pending++;
    try {
      return await entry.pool.send({
        envelope: message.envelope,
        raw: message.raw,
        site: message.site,
        ctx: context.active(),
        requireSmtpUtf8,
        ...(message.notAfter !== undefined ? { notAfter: message.notAfter } : {}),
      });
    } finally {
      entry.pending--;
      entry.lastUsed = this.now();
    }
  }

  private entry(t: TransportTarget): Entry {
    const key = TransportCache.keyOf(t);
    let e = this.entries.get(key);
    if (!e) {
      const o = this.opts;
      const pool = new SmtpPool({
        connection: this.connectionOptions(t),
        maxConnections: Math.max(1, t.maxConnections),
        maxMessages: Math.max(1, t.maxMessages),
        maxRequeues: o.maxRequeues ?? 1,
        idleCloseMs: this.idleCloseMs,
        messageTimeoutMs: o.messageTimeoutMs ?? 0,
        observer: o.observer,
      });
      e = { pool, lastUsed: this.now(), pending: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  /** nodemailer `SMTPConnection` options of a target (TLS mode, source address, timeouts). */
  connectionOptions(t: TransportTarget): ConnectionOptions {
    const o = this.opts;
    const mode: TlsMode = t.tls ?? (o.tls === 'none' ? 'disabled' : o.tls);
    const verify = mode === 'mta-sts';
    const tls = { rejectUnauthorized: verify, ...(t.servername ? { servername: t.servername } : {}), ...(verify && o.ca ? { ca: o.ca } : {}) };
    return {
      host: t.host,
      port: t.port,
      secure: false,
      name: t.ehloName ?? o.ehloName,
      ...(t.localAddress ? { localAddress: t.localAddress } : {}),
      connectionTimeout: o.connectionTimeoutMs,
      greetingTimeout: o.greetingTimeoutMs,
      socketTimeout: o.socketTimeoutMs,
      ignoreTLS: mode === 'disabled',
      requireTLS: mode === 'required' || mode === 'mta-sts',
      opportunisticTLS: mode === 'opportunistic',
      ...(mode !== 'disabled' ? { tls } : {}),
      logger: false,
    };
  }

  /** Closes pools that have nothing pending and were unused for idleCloseMs. */
  sweep(): void {
    const cutoff = this.now() - this.idleCloseMs;
    for (const [key, e] of this.entries) {
      if (e.pending === 0 && e.lastUsed <= cutoff) {
        this.entries.delete(key);
        e.pool.close();
      }
    }
  }

  /**
   * Stops taking messages, closes every pool (idle connections at once; a message being
   * transmitted is finished), and waits up to `timeoutMs` for in-flight messages before
   * forcing the rest closed.
   */
  async closeAll(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const pools = [...this.entries.values()].map((e) => e.pool);
    this.entries.clear();
    for (const p of pools) p.close();
    const deadline = Date.now() + timeoutMs;
    while (pools.some((p) => p.pendingCount() > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const p of pools) if (p.pendingCount() > 0) p.close({ force: true });
  }
}
