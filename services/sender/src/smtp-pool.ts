import type { TlsInfo } from '@mta/contracts';
import { deadlineTimer } from '@mta/retry';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { Context } from '@opentelemetry/api';
import { CommandLog, type CommandObserver } from './smtp-commands.ts';
import { tlsInfoOf, type SocketLike } from './smtp-session.ts';
import { patchDataStream } from './dot-stuff.ts';

// nodemailer's DATA transform with native byte search, same output (dot-stuff.ts).
await patchDataStream();

/** nodemailer's SMTPConnection options (the pool adds its own logger). */
export type ConnectionOptions = ConstructorParameters<typeof SMTPConnection>[0] & {};

/** The envelope of one message: nodemailer's shape (`use8BitMime` adds BODY=8BITMIME when offered). */
export interface PoolEnvelope {
  from: string;
  to: string[];
  use8BitMime?: boolean;
}

/** One message for a pool: envelope and the finished bytes (signed, not yet dot-escaped). */
export interface PoolJob {
  envelope: PoolEnvelope;
  raw: Buffer;
  /** Refuse the message (553 5.6.7, before MAIL FROM) when the peer does not offer SMTPUTF8. */
  requireSmtpUtf8?: boolean;
  /** Trace context the command spans of this message are children of. */
  ctx?: Context;
  /** Receiving site, for the command latency histogram. */
  site?: string;
  /**
   * The message's validity end (ms since epoch): still waiting in the queue for a connection
   * then, it leaves unsent with EEXPIRED (a message already on a connection is finished).
   */
  notAfter?: number;
}

/** What a delivered message says: the DATA reply, per-recipient outcomes, the session's TLS. */
export interface PoolSendInfo {
  response: string;
  accepted: string[];
  rejected: string[];
  rejectedErrors?: Error[];
  envelope: { from: string; to: string[] };
  tls?: TlsInfo;
}

export interface SmtpPoolOptions {
  connection: ConnectionOptions;
  maxConnections: number;
  /** Messages sent over one connection before it is replaced (QUIT). */
  maxMessages: number;
  /** Times a message is sent again after its connection closed before a byte of it went out. */
  maxRequeues: number;
  /** An idle connection is closed (QUIT) after this long. */
  idleCloseMs: number;
  /** Deadline of one message from `send` to the final reply (0 = none). */
  messageTimeoutMs: number;
  /** Told about each SMTP command of a message (spans, latency). */
  observer?: CommandObserver | undefined;
}

/** nodemailer's SMTPConnection with the private fields read after EHLO. */
type Smtp = SMTPConnection & { _supportedExtensions?: string[]; _socket?: SocketLike };

type NodemailerError = Error & { code?: string; responseCode?: number; response?: string; command?: string; timeoutType?: string };

interface Job extends PoolJob {
  resolve(info: PoolSendInfo): void;
  reject(err: Error): void;
  requeues: number;
  conn: Conn | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Fires at `notAfter` while the job waits in the queue. */
  expiry: NodeJS.Timeout | undefined;
  done: boolean;
}

interface Conn {
  smtp: Smtp;
  state: 'connecting' | 'idle' | 'busy' | 'closed';
  /** Messages handed to this connection so far (nodemailer's count: delivered or not). */
  messages: number;
  job: Job | undefined;
  /** Error the connection reported before it ended. */
  failure: Error | undefined;
  tls: TlsInfo | undefined;
  idleTimer: NodeJS.Timeout | undefined;
  log: CommandLog;
}

const REQUEUE_BASE_DELAY_MS = 50;
const REQUEUE_MAX_DELAY_MS = 2000;

function smtpError(message: string, fields: { code: string; command?: string; response?: string; responseCode?: number; timeoutType?: string }): NodemailerError {
  return Object.assign(new Error(message), fields);
}

/** A message that left a pool's queue unsent because its validity period had ended. */
const validityError = (notAfter: number): NodemailerError =>
  smtpError(`not sent: validity period ended at ${new Date(notAfter).toISOString()} while waiting for a connection`, { code: 'EEXPIRED', command: 'CONN' });

/** nodemailer's transient errors: a connection problem rather than a reply about the message. */
const isTransient = (e: NodemailerError): boolean => e.responseCode === 421 || e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.code === 'ETIMEDOUT';

/**
 * A pool of SMTP connections to one destination (one source address, host:port, TLS mode),
 * built on nodemailer's `SMTPConnection` (connect, EHLO, STARTTLS, PIPELINING, timeouts per
 * phase, dot-escaping, nodemailer's error shape) and fed finished message bytes.
 *
 * Why not nodemailer's own pool (`smtp-pool`): it takes mail options, so every message goes
 * through a Mailer, a MailMessage, a MimeNode and a chain of streams even when it is raw bytes
 * already (about 60 % of the sender's CPU without DKIM), and it does not say which connection
 * carried a message (no per-command trace, no TLS record per session). This pool keeps its
 * behaviour (docs/sender.md), reading its source:
 *
 * - at most `maxConnections` connections, each replaced after `maxMessages` messages; messages
 *   wait in one FIFO queue and go to the first idle connection;
 * - a reply about the message (EENVELOPE/EMESSAGE, not 421) fails that message only, and the
 *   session is reset (RSET) and reused;
 * - a connection that closes before a byte of the message went out (a closed-before-greeting
 *   connection, or a reused one the server dropped while idle) puts the message back at the head
 *   of the queue, at most `maxRequeues` times, with a growing delay; a connection that fails
 *   to be set up (refused, timeout, TLS, bad greeting) fails its message at once, so the sender
 *   can move to the next MX host;
 * - idle connections are closed after `idleCloseMs`; `close()` drains (idle connections go at
 *   once, a message in flight finishes), `close({ force: true })` fails what is left.
 */
export class SmtpPool {
  private readonly queue: Job[] = [];
  private readonly conns = new Set<Conn>();
  private closed = false;
  private inFlight = 0;
  private wakeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: SmtpPoolOptions) {}

  /** Messages queued or being sent. */
  pendingCount(): number {
    return this.inFlight;
  }

  /** Open connections (connecting, idle or busy). */
  connectionCount(): number {
    return this.conns.size;
  }

  send(message: PoolJob): Promise<PoolSendInfo> {
    if (this.closed) return Promise.reject(smtpError('Connection pool was closed', { code: 'ECONNECTION', command: 'CONN' }));
    return new Promise<PoolSendInfo>((resolve, reject) => {
      const job: Job = { ...message, resolve, reject, requeues: 0, conn: undefined, timer: undefined, expiry: undefined, done: false };
      this.inFlight++;
      const deadline = this.opts.messageTimeoutMs;
      if (deadline > 0) job.timer = setTimeout(() => this.expire(job), deadline);
      // An end beyond a timer's reach (deadlineTimer) is still checked when the job is taken from
      // the queue (nextJob).
      if (message.notAfter !== undefined) job.expiry = deadlineTimer(message.notAfter, () => this.validityEnded(job));
      this.queue.push(job);
      this.process();
    });
  }

  /**
   * Stops taking messages. Idle connections say QUIT now, busy ones after their message; queued
   * messages fail. With `force`, busy connections are closed too and their messages fail.
   */
  close(options: { force?: boolean } = {}): void {
    this.closed = true;
    clearTimeout(this.wakeTimer);
    for (const job of this.queue.splice(0)) this.settle(job, smtpError('Connection pool was closed', { code: 'ECONNECTION', command: 'CONN' }));
    for (const c of [...this.conns]) {
      if (c.state === 'idle') this.retire(c);
      else if (options.force) {
        const job = c.job;
        this.drop(c);
        if (job) this.settle(job, smtpError('Connection pool was closed', { code: 'ECONNECTION', command: 'CONN' }));
      }
    }
  }

  private settle(job: Job, err: Error | null, info?: PoolSendInfo): void {
    if (job.done) return;
    job.done = true;
    this.inFlight--;
    clearTimeout(job.timer);
    clearTimeout(job.expiry);
    if (job.conn?.job === job) job.conn.job = undefined;
    job.conn = undefined;
    if (err) job.reject(err);
    else job.resolve(info!);
  }

  /**
   * The message's validity ended while it waited in the queue for a connection: it leaves unsent
   * (expiry is enforced wherever a message can sit). One already handed to a connection goes on.
   */
  private validityEnded(job: Job): void {
    const at = this.queue.indexOf(job);
    if (job.done || at < 0) return;
    this.queue.splice(at, 1);
    this.settle(job, validityError(job.notAfter!));
  }

  /** The message deadline passed: fail it, and close the connection carrying it (if any). */
  private expire(job: Job): void {
    if (job.done) return;
    const at = this.queue.indexOf(job);
    if (at >= 0) this.queue.splice(at, 1);
    const c = job.conn;
    const err = smtpError(`message not delivered within ${this.opts.messageTimeoutMs} ms (MTA_SMTP_MESSAGE_TIMEOUT_MS)`, {
      code: 'ETIMEDOUT',
      command: 'DATA',
      timeoutType: 'MESSAGE_TIMEOUT',
    });
    this.settle(job, err);
    if (c) this.drop(c);
    this.process();
  }

  /** Hands queued messages to idle connections, opening new ones up to maxConnections. */
  private process(): void {
    if (this.closed) return;
    while (this.queue.length) {
      let idle: Conn | undefined;
      for (const c of this.conns) {
        if (c.state === 'idle') {
          idle = c;
          break;
        }
      }
      if (idle) {
        const job = this.nextJob();
        if (!job) return;
        this.start(idle, job);
        continue;
      }
      if (this.conns.size >= this.opts.maxConnections) return;
      const job = this.nextJob();
      if (!job) return;
      this.open(job);
    }
  }

  /** The next queued job to send; jobs whose validity has ended leave unsent on the way (EEXPIRED). */
  private nextJob(): Job | undefined {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      if (job.notAfter !== undefined && job.notAfter <= Date.now()) this.settle(job, validityError(job.notAfter));
      else return job;
    }
    return undefined;
  }

  /** Opens a connection for `job` (it is that connection's first message). */
  private open(job: Job): void {
    const log = new CommandLog(this.opts.observer);
    const smtp = new SMTPConnection({ ...this.opts.connection, logger: log.logger, transactionLog: true, debug: false }) as Smtp;
    // nodemailer wraps a logger given in its options (a merged entry object per call, for every
    // level, `info` included); the command log reads only the entry's `tnx` and the line, so it
    // takes nodemailer's calls directly (same calls, ~2 % of the sender's CPU less).
    (smtp as unknown as { logger: CommandLog['logger'] }).logger = log.logger;
    const c: Conn = { smtp, state: 'connecting', messages: 0, job, failure: undefined, tls: undefined, idleTimer: undefined, log };
    job.conn = c;
    this.conns.add(c);
    log.attach(job);
    smtp.on('error', (err: Error) => {
      c.failure ??= err;
    });
    smtp.once('end', () => this.ended(c));
    // nodemailer writes a message's bytes and then its final dot as two socket writes, in the
    // tick that handles the 354: corked for that tick, they leave in one writev (one syscall less
    // per message, the same bytes).
    log.onDataSent = () => {
      const socket = smtp._socket as (SocketLike & { cork?(): void; uncork?(): void; writable?: boolean }) | undefined;
      if (!socket?.cork || !socket.uncork || socket.writable === false) return;
      socket.cork();
      process.nextTick(() => socket.uncork!());
    };
    log.connecting();
    smtp.connect((err) => {
      // With an error: closed before the greeting; the 'end' that follows decides.
      if (err || c.state !== 'connecting') return;
      c.tls = tlsInfoOf(smtp._socket);
      const next = c.job;
      if (!next) return this.release(c);
      this.start(c, next);
    });
  }

  /** Sends `job` over connection `c` (connected, and idle or just set up). */
  private start(c: Conn, job: Job): void {
    // The idle timer keeps running: it ignores a busy connection, and release() re-arms it
    // (refresh() does not re-arm a cleared timer).
    c.state = 'busy';
    c.job = job;
    job.conn = c;
    c.log.attach(job);
    if (job.requireSmtpUtf8 && !(c.smtp._supportedExtensions ?? []).includes('SMTPUTF8')) {
      // RFC 6531 §3.4: no internationalised address to a peer without SMTPUTF8. Nothing was
      // sent, so the session stays as it was.
      const host = String(this.opts.connection.host);
      const response = `553 5.6.7 ${host} does not offer SMTPUTF8, required for the internationalised address`;
      this.settle(job, smtpError(`SMTPUTF8 is required, but was not offered by ${host}`, { code: 'EENVELOPE', responseCode: 553, response, command: 'MAIL FROM' }));
      return this.release(c);
    }
    const reused = c.messages > 0;
    c.messages++;
    c.log.dataSent = false;
    const envelope = { from: job.envelope.from, to: job.envelope.to, use8BitMime: job.envelope.use8BitMime === true };
    c.smtp.send(envelope, job.raw, (err, info) => {
      if (c.job !== job) return; // expired or force-closed meanwhile
      if (!err) {
        const i = info as unknown as { response: string; accepted: string[]; rejected: string[]; rejectedErrors?: Error[] };
        const out: PoolSendInfo = { response: i.response, accepted: i.accepted, rejected: i.rejected, envelope: { from: envelope.from, to: envelope.to } };
        if (i.rejectedErrors?.length) out.rejectedErrors = i.rejectedErrors;
        if (c.tls) out.tls = c.tls;
        this.settle(job, null, out);
        return this.release(c);
      }
      const e = err as NodemailerError;
      if (reused && !c.log.dataSent && isTransient(e) && this.requeue(job)) {
        // The server dropped a connection that had carried messages before, before this one's
        // bytes went out: it goes again over another connection.
        return this.drop(c);
      }
      this.settle(job, e);
      if ((e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && e.responseCode !== 421 && c.state === 'busy') {
        // A refused message: the session is fine; reset it and keep it.
        c.smtp.reset((resetErr) => (resetErr ? this.drop(c) : this.release(c)));
        return;
      }
      this.drop(c);
    });
  }

  /** Puts a job back at the head of the queue; false when it used up its requeues. */
  private requeue(job: Job): boolean {
    if (this.closed || job.requeues >= this.opts.maxRequeues) return false;
    const delay = Math.min(REQUEUE_BASE_DELAY_MS * 2 ** job.requeues, REQUEUE_MAX_DELAY_MS);
    job.requeues++;
    if (job.conn?.job === job) job.conn.job = undefined;
    job.conn = undefined;
    this.queue.unshift(job);
    // Back off, so a server that keeps dropping connections is not hammered.
    this.later(delay);
    return true;
  }

  /** Runs `process` after `ms` (the queue waits meanwhile, unless a connection frees up). */
  private later(ms: number): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = setTimeout(() => this.process(), ms);
  }

  /** After a message: the connection takes the next one, or goes idle, or is retired. */
  private release(c: Conn): void {
    if (c.state === 'closed') return;
    c.job = undefined;
    c.log.attach(undefined);
    if (this.closed || c.messages >= this.opts.maxMessages) return this.retire(c);
    c.state = 'idle';
    const next = this.nextJob();
    if (next) return this.start(c, next);
    if (c.idleTimer) c.idleTimer.refresh();
    else {
      c.idleTimer = setTimeout(() => c.state === 'idle' && this.retire(c), this.opts.idleCloseMs);
      c.idleTimer.unref();
    }
    this.process();
  }

  /** Marks a connection closed and removes it from the pool (its socket is the caller's business). */
  private forget(c: Conn): void {
    c.state = 'closed';
    clearTimeout(c.idleTimer);
    this.conns.delete(c);
  }

  /** Ends a connection politely (QUIT) and forgets it. */
  private retire(c: Conn): void {
    if (c.state === 'closed') return;
    this.forget(c);
    c.smtp.quit();
    this.process();
  }

  /** Closes a connection at once and forgets it. */
  private drop(c: Conn): void {
    if (c.state === 'closed') return;
    this.forget(c);
    c.smtp.close();
    this.process();
  }

  /** The connection ended (closed by either side, or failed). */
  private ended(c: Conn): void {
    const was = c.state;
    this.forget(c);
    c.log.ended(c.failure);
    const job = c.job;
    if (!job) return this.process();
    if (was === 'connecting') {
      if (c.failure) {
        // Refused, timed out, TLS or greeting failure: the host is the problem, not the message.
        // The next queued message dials again only after a pause (nodemailer's pool waits 100 ms
        // too), so a refusing host is not redialled in a tight loop.
        this.settle(job, c.failure);
        return this.later(100);
      }
      if (!this.requeue(job)) {
        // Closed before the greeting, again: nodemailer's pool words it this way.
        this.settle(job, smtpError('Reached maximum number of retries after connection was closed', { code: 'ECONNECTION', command: 'CONN' }));
        return this.later(100);
      }
      return;
    }
    // Busy: nodemailer calls the send callback right after 'end' when it still has the send;
    // when it does not (it forgot it while closing), the message fails here.
    setImmediate(() => {
      if (c.job === job && !job.done) this.settle(job, c.failure ?? smtpError('Connection closed unexpectedly', { code: 'ECONNECTION', command: 'CONN' }));
      this.process();
    });
  }
}
