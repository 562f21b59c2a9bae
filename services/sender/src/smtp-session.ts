import type { TlsInfo } from '@mta/contracts';
import type { SendMailOptions, SMTPPoolOptions } from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { SendInfo } from './transports.ts';

/** The part of a (TLS) socket the TLS record is read from. */
export interface SocketLike {
  encrypted?: boolean;
  getProtocol?: () => string | null;
  getCipher?: () => { name: string; standardName?: string };
}

/** Protocol and cipher of an encrypted socket; undefined for a plain one. */
export function tlsInfoOf(socket: SocketLike | undefined): TlsInfo | undefined {
  if (!socket?.encrypted || !socket.getProtocol || !socket.getCipher) return undefined;
  const protocol = socket.getProtocol();
  const cipher = socket.getCipher();
  if (!protocol || !cipher) return undefined;
  return { protocol, cipher: cipher.standardName ?? cipher.name };
}

/** nodemailer's SMTPConnection, with the two private fields read after EHLO. */
type Connection = SMTPConnection & { _supportedExtensions?: string[]; _socket?: SocketLike };

/**
 * One message over one fresh SMTP connection (nodemailer's SMTPConnection: same EHLO, STARTTLS,
 * timeouts as the pool), then QUIT. With `requireSmtpUtf8`, a peer whose EHLO does not offer
 * SMTPUTF8 gets no MAIL FROM: the send fails with a permanent 553 5.6.7 (RFC 6531 §3.4, the
 * reply a receiving server gives for the same reason), command `MAIL FROM`, code EENVELOPE.
 */
export function sendOnce(options: SMTPPoolOptions, message: SendMailOptions & { raw: Buffer | string }, opts: { requireSmtpUtf8: boolean }): Promise<SendInfo> {
  return new Promise((resolve, reject) => {
    const conn = new SMTPConnection(options) as Connection;
    let settled = false;
    const finish = (err: Error | null, info?: SendInfo) => {
      if (settled) return;
      settled = true;
      if (err) {
        conn.close();
        reject(err);
      } else {
        conn.quit();
        resolve(info!);
      }
    };
    conn.on('error', (err: Error) => finish(err)); // 'on': a late error after QUIT must not go unhandled
    conn.once('end', () => finish(Object.assign(new Error('Connection closed unexpectedly'), { code: 'ECONNECTION', command: 'CONN' })));
    conn.connect(() => {
      if (opts.requireSmtpUtf8 && !(conn._supportedExtensions ?? []).includes('SMTPUTF8')) {
        const response = `553 5.6.7 ${options.host} does not offer SMTPUTF8, required for the internationalised address`;
        return finish(Object.assign(new Error(`SMTPUTF8 is required, but was not offered by ${options.host}`), { code: 'EENVELOPE', responseCode: 553, response, command: 'MAIL FROM' }));
      }
      const envelope = message.envelope as { from: string; to: string[]; use8BitMime?: boolean };
      conn.send(envelope, message.raw, (err, info) => {
        if (err) return finish(err);
        const out = info as unknown as SendInfo;
        const tls = tlsInfoOf(conn._socket);
        if (tls) out.tls = tls;
        finish(null, out);
      });
    });
  });
}
