import type { TlsInfo } from '@mta/contracts';

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
