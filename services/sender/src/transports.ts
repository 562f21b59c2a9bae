import nodemailer from 'nodemailer';
import type { SendMailOptions, SMTPPoolOptions, SMTPPoolSentMessageInfo, Transporter } from 'nodemailer';
import type { TlsInfo } from '@mta/contracts';
import { hostPort } from './routes.ts';
import { sendOnce, tlsInfoOf, type SocketLike } from './smtp-session.ts';
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

/** What a successful send says: nodemailer's info, and the TLS of the session when it had any. */
export type SendInfo = SMTPPoolSentMessageInfo & { tls?: TlsInfo };

/** A message for the pool: its envelope may ask for 8BITMIME (`use8BitMime`, a nodemailer envelope flag). */
export type PoolMessage = SendMailOptions & { envelope?: { from: string; to: string[]; use8BitMime?: boolean } };

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
    const from = t.localAddress ? `${t.localAddress}>` : '';
    return `${from}${hostPort(t.host, t.port)}/${t.maxConnections}/${t.maxMessages}/${t.tls ?? ''}/${t.servername ?? ''}`;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Sends one message through the destination's pooled transport. Rejects with nodemailer's error. */
  async send(target: TransportTarget, message: PoolMessage): Promise<SendInfo> {
    if (this.closed) throw Object.assign(new Error('sender is shutting down'), { code: 'ECONNECTION', command: 'CONN' });
    const entry = this.entry(target);
    const deadline = this.opts.messageTimeoutMs;
    entry.pending++;
    try {
      const info: SendInfo = await entry.mail.sendMail(deadline ? { ...message, signal: AbortSignal.timeout(deadline) } : message);
      const tls = poolTls(entry.mail);
      if (tls) info.tls = tls;
      return info;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EABORT') throw err;
      // Connect, greeting and each command have their own timers, so a deadline that expires is
      // almost always a DATA phase that never ends.
      throw Object.assign(new Error(`message not delivered within ${deadline} ms (MTA_SMTP_MESSAGE_TIMEOUT_MS)`), {
        code: 'ETIMEDOUT',
        command: 'DATA',
        timeoutType: 'MESSAGE_TIMEOUT',
      });
    } finally {
      entry.pending--;
      entry.lastUsed = this.now();
    }
  }

  /**
   * Sends one message over a connection of its own, refusing it (553 5.6.7, before MAIL FROM)
   * when the peer does not offer SMTPUTF8. For envelopes with non-ASCII addresses: nodemailer
   * adds the SMTPUTF8 parameter when the peer offers it but sends the address anyway when it
   * does not, which RFC 6531 §3.4 forbids. These messages are rare, so they skip the pool.
   */
  sendRequiringSmtpUtf8(target: TransportTarget, message: PoolMessage & { raw: Buffer | string }): Promise<SendInfo> {
    if (this.closed) return Promise.reject(Object.assign(new Error('sender is shutting down'), { code: 'ECONNECTION', command: 'CONN' }));
    return sendOnce(this.connectionOptions(target), message, { requireSmtpUtf8: true });
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

  /** nodemailer connection options of a target (TLS mode, source address, timeouts). */
  connectionOptions(t: TransportTarget): SMTPPoolOptions {
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
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    };
  }

  private create(t: TransportTarget): Transporter<SMTPPoolSentMessageInfo> {
    const o = this.opts;
    const options: SMTPPoolOptions & { pool: true } = {
      ...this.connectionOptions(t),
      pool: true,
      maxConnections: t.maxConnections,
      maxMessages: t.maxMessages,
      maxRequeues: o.maxRequeues ?? 1,
      idleTimeout: this.idleCloseMs,
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

/**
 * The TLS of a pooled transport's sessions. nodemailer's pool does not say which connection
 * carried a message, so this reads its live connections (a private structure, covered by the
 * STARTTLS integration test): the first encrypted one. All connections of a pool share the
 * destination and TLS mode, so they negotiate the same; the only imprecision is a pool where an
 * opportunistic upgrade failed on some connections and not on others.
 */
function poolTls(mail: Transporter<SMTPPoolSentMessageInfo>): TlsInfo | undefined {
  const pool = mail.transporter as unknown as { _connections?: { connection?: { _socket?: SocketLike } }[] };
  for (const r of pool._connections ?? []) {
    const info = tlsInfoOf(r.connection?._socket);
    if (info) return info;
  }
  return undefined;
}
