import type { Context } from '@opentelemetry/api';

/** The steps of an SMTP conversation reported per message. */
export type SmtpCommandPhase = 'connect' | 'tls' | 'ehlo' | 'mail' | 'rcpt' | 'data';

/** One finished step of the conversation, owned by one message. */
export interface SmtpCommandEvent {
  phase: SmtpCommandPhase;
  /** The command as sent, without its arguments (`MAIL FROM`, `RCPT TO`, `DATA`...); `CONNECT` for the greeting. */
  command: string;
  /** Epoch milliseconds (fractional): command written / reply read (or the connection ended). */
  start: number;
  end: number;
  /** Reply code, absent when the connection ended first. */
  code?: number;
  enhancedCode?: string;
  /** A 2xx/3xx reply (for TLS: the handshake finished too). */
  ok: boolean;
  /** Trace context and site of the message that owns the step. */
  ctx?: Context | undefined;
  site?: string | undefined;
}

export type CommandObserver = (e: SmtpCommandEvent) => void;

/** The message a command belongs to. */
export interface CommandOwner {
  ctx?: Context | undefined;
  site?: string | undefined;
}

type Phase = SmtpCommandPhase | 'other';

interface Pending {
  phase: Phase;
  command: string;
  start: number;
  owner: CommandOwner | undefined;
  /** DATA answered 354: the next reply ends the message. */
  body?: boolean;
}

const now = (): number => performance.timeOrigin + performance.now();
const ENHANCED = /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})(?=\s|$)/;

function classify(line: string): { phase: Phase; command: string } {
  switch (line.slice(0, 4).toUpperCase()) {
    case 'EHLO':
      return { phase: 'ehlo', command: 'EHLO' };
    case 'HELO':
      return { phase: 'ehlo', command: 'HELO' };
    case 'LHLO':
      return { phase: 'ehlo', command: 'LHLO' };
    case 'STAR':
      return { phase: 'tls', command: 'STARTTLS' };
    case 'MAIL':
      return { phase: 'mail', command: 'MAIL FROM' };
    case 'RCPT':
      return { phase: 'rcpt', command: 'RCPT TO' };
    case 'DATA':
      return { phase: 'data', command: 'DATA' };
    default:
      return { phase: 'other', command: line.slice(0, 4).toUpperCase() };
  }
}

const noop = (): void => undefined;

/**
 * The SMTP conversation of one connection, read from nodemailer's transaction log
 * (`SMTPConnection` with `transactionLog: true` logs each command it writes, tnx `client`, and
 * each complete reply it reads, tnx `server`), turned into one event per command.
 *
 * Replies come in the order of the commands, also with PIPELINING (MAIL, RCPT... and DATA written
 * at once), so each reply ends the oldest command still waiting. The greeting ends `connect`
 * (TCP connect + 220); STARTTLS ends when the next command is written (that is EHLO, sent as
 * soon as the TLS handshake finished); DATA ends with the reply to the message's final dot (its
 * 354 only marks that the message bytes are going out: `dataSent`). Each command belongs to the
 * message the connection carried when it was written: connect, STARTTLS and EHLO to the message
 * that opened the connection. Message contents never reach the logger (`debug` stays off).
 */
export class CommandLog {
  /** The current message's DATA was answered 354: its bytes went (or are going) out. */
  dataSent = false;
  /** Called when DATA is answered 354, just before nodemailer writes the message (same tick). */
  onDataSent: (() => void) | undefined;
  readonly logger: Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', (entry: { tnx?: string } | undefined, message?: string) => void>;
  private owner: CommandOwner | undefined;
  private readonly pending: Pending[] = [];
  /** STARTTLS accepted; the handshake is under way. */
  private handshake: (Pending & { code: number; reply: string }) | undefined;

  constructor(private readonly observer?: CommandObserver) {
    this.logger = {
      trace: noop,
      debug: (entry, message) => {
        if (entry?.tnx === 'client') this.client(message ?? '');
        else if (entry?.tnx === 'server') this.server(message ?? '');
      },
      info: noop,
      warn: noop,
      error: noop,
      fatal: noop,
    };
  }

  /** The message commands written from now on belong to. */
  attach(owner: CommandOwner | undefined): void {
    this.owner = owner;
  }

  /** The connection is being opened: the greeting will end it. */
  connecting(): void {
    this.pending.push({ phase: 'connect', command: 'CONNECT', start: now(), owner: this.owner });
  }

  /** The connection ended: whatever still waited for a reply failed. */
  ended(_failure?: Error): void {
    const t = now();
    if (this.handshake) this.emit(this.handshake, t, undefined, false);
    this.handshake = undefined;
    for (const p of this.pending.splice(0)) this.emit(p, t, undefined, false);
  }

  private client(line: string): void {
    const t = now();
    if (this.handshake) {
      this.emit(this.handshake, t, this.handshake.code, true, this.handshake.reply);
      this.handshake = undefined;
    }
    // A lone dot ends a message body whose DATA was answered 354 (nodemailer writes it alone when
    // a server took DATA without any accepted recipient): its reply ends that DATA.
    if (line === '.' && this.pending.at(-1)?.body) return;
    const { phase, command } = classify(line);
    this.pending.push({ phase, command, start: t, owner: this.owner });
  }

  private server(reply: string): void {
    const p = this.pending.shift();
    if (!p) return;
    const code = Number(reply.slice(0, 3)) || undefined;
    if (p.phase === 'tls' && code !== undefined && code < 300) {
      this.handshake = { ...p, code, reply };
      return;
    }
    if (p.phase === 'data' && !p.body && code !== undefined && code >= 300 && code < 400) {
      this.dataSent = true;
      this.onDataSent?.();
      this.pending.unshift({ ...p, body: true });
      return;
    }
    this.emit(p, now(), code, code !== undefined && code < 400, reply);
  }

  private emit(p: Pending, end: number, code: number | undefined, ok: boolean, reply?: string): void {
    if (!this.observer || p.phase === 'other' || !p.owner) return;
    const e: SmtpCommandEvent = { phase: p.phase, command: p.command, start: p.start, end, ok, ctx: p.owner.ctx, site: p.owner.site };
    if (code !== undefined) e.code = code;
    const enhanced = reply ? ENHANCED.exec(reply)?.[1] : undefined;
    if (enhanced) e.enhancedCode = enhanced;
    try {
      this.observer(e);
    } catch {
      // Telemetry must never break the SMTP session this runs inside (nodemailer's logger call).
    }
  }
}
