import nodemailer from 'nodemailer';
import type { SendMailOptions, SMTPPoolOptions, SMTPPoolSentMessageInfo, Transporter } from 'nodemailer';
import { hostPort } from './routes.ts';

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
}

export interface TransportCacheOptions {
  /** Name sent with EHLO/HELO. */
  ehloName: string;
  /** `opportunistic`: STARTTLS when offered, any certificate, plain text if it fails; `none`: never STARTTLS. */
  tls: 'opportunistic' | 'none';
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
  /** A transport (and a pooled connection) unused for this long is closed. Default 60 s. */
  idleCloseMs?: number;
  /** Times the pool re-sends a message whose connection closed under it. Default 1. */
  maxRequeues?: number;
  now?: () => number;
  /** For tests: builds the transporter. */
  create?: (options: SMTPPoolOptions & { pool: true }) => Transporter<SMTPPoolSentMessageInfo>;
}

/** The pool behind a transporter, for draining at shutdown. */
interface PoolLike {
  pendingCount(): number;
  close(options?: { force?: boolean }): void;
}

interface Entry {
  mail: Transporter<SMTPPoolSentMessageInfo>;
  lastUsed: number;
  pending: number;
}

/**
 * Pooled nodemailer transports, one per destination and limits (`host:port/maxConn/maxMsgs`),
 * created on first use and reused by every later message: connections stay open across
 * messages (up to maxMessages each). Transports unused for `idleCloseMs` are closed; `closeAll`
 * drains them at shutdown.
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
    return `${hostPort(t.host, t.port)}/${t.maxConnections}/${t.maxMessages}`;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Sends one message through the destination's pooled transport. Rejects with nodemailer's error. */
  async send(target: TransportTarget, message: SendMailOptions): Promise<SMTPPoolSentMessageInfo> {
    if (this.closed) throw Object.assign(new Error('sender is shutting down'), { code: 'ECONNECTION', command: 'CONN' });
    const entry = this.entry(target);
    entry.pending++;
    try {
      return await entry.mail.sendMail(message);
    } finally {
      entry.pending--;
      entry.lastUsed = this.now();
    }
  }

  private entry(t: TransportTarget): Entry {
    const key = TransportCache.keyOf(t);
    let e = this.entries.get(key);
    if (!e) {
      e = { mail: this.create(t), lastUsed: this.now(), pending: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  private create(t: TransportTarget): Transporter<SMTPPoolSentMessageInfo> {
    const o = this.opts;
    const opportunistic = o.tls === 'opportunistic';
    const options: SMTPPoolOptions & { pool: true } = {
      pool: true,
      host: t.host,
      port: t.port,
      secure: false,
      maxConnections: t.maxConnections,
      maxMessages: t.maxMessages,
      maxRequeues: o.maxRequeues ?? 1,
      idleTimeout: this.idleCloseMs,
      name: o.ehloName,
      connectionTimeout: o.connectionTimeoutMs,
      greetingTimeout: o.greetingTimeoutMs,
      socketTimeout: o.socketTimeoutMs,
      ignoreTLS: !opportunistic,
      opportunisticTLS: opportunistic,
      ...(opportunistic ? { tls: { rejectUnauthorized: false, ...(t.servername ? { servername: t.servername } : {}) } } : {}),
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    };
    const mail = (o.create ?? ((x) => nodemailer.createTransport(x)))(options);
    // The pool reports per-message failures through sendMail; a stray 'error' must not crash the process.
    mail.on('error', () => undefined);
    return mail;
  }

  /** Closes transports that have nothing pending and were unused for idleCloseMs. */
  sweep(): void {
    const cutoff = this.now() - this.idleCloseMs;
    for (const [key, e] of this.entries) {
      if (e.pending === 0 && e.lastUsed <= cutoff) {
        this.entries.delete(key);
        e.mail.close();
      }
    }
  }

  /**
   * Stops taking messages, closes every transport (idle connections at once; a message being
   * transmitted is finished), and waits up to `timeoutMs` for in-flight messages before
   * forcing the rest closed.
   */
  async closeAll(timeoutMs = 10_000): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    const pools = [...this.entries.values()].map((e) => e.mail.transporter as unknown as PoolLike);
    this.entries.clear();
    for (const p of pools) p.close();
    const deadline = Date.now() + timeoutMs;
    while (pools.some((p) => p.pendingCount() > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const p of pools) if (p.pendingCount() > 0) p.close({ force: true });
  }
}
