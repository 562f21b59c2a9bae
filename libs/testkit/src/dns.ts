import dns2 from 'dns2';
import type { AddressInfo } from 'node:net';

const { Packet } = dns2;

/** What the fake zone says about one name. */
export interface ZoneEntry {
  mx?: { exchange: string; priority: number }[];
  a?: string[];
  aaaa?: string[];
  /** TXT records (DKIM keys, MTA-STS `v=STSv1; id=...`); a long value is split into 255-byte strings. */
  txt?: string[];
  /** Answer every query for the name with this response code instead. */
  rcode?: 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED';
  ttl?: number;
}

export interface FakeDns {
  /** `127.0.0.1:port`, for MTA_DNS_SERVER. */
  server: string;
  /** Queries received, as `TYPE name`. */
  queries: string[];
  close(): Promise<void>;
}

const RCODE = { NXDOMAIN: 3, SERVFAIL: 2, REFUSED: 5 } as const;

/**
 * A real DNS server (dns2, UDP) on 127.0.0.1 and a free port, answering from `zone`. A name
 * absent from the zone is NXDOMAIN; a name present without records of the asked type is
 * NOERROR with no answer (NODATA).
 */
export async function startDns(zone: Record<string, ZoneEntry>): Promise<FakeDns> {
  const queries: string[] = [];
  const server = dns2.createUDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    const q = request.questions[0];
    if (!q) return void send(response);
    const name = q.name.toLowerCase().replace(/\.$/, '');
    queries.push(`${q.type === Packet.TYPE.MX ? 'MX' : q.type === Packet.TYPE.A ? 'A' : q.type === Packet.TYPE.AAAA ? 'AAAA' : q.type === Packet.TYPE.TXT ? 'TXT' : q.type} ${name}`);
    const entry = zone[name];
    if (!entry) response.header.rcode = RCODE.NXDOMAIN;
    else if (entry.rcode) response.header.rcode = RCODE[entry.rcode];
    else {
      const ttl = entry.ttl ?? 60;
      const base = { name: q.name, class: Packet.CLASS.IN, ttl };
      const add = (record: Record<string, unknown>) => response.answers.push(new Packet.Resource({ ...base, ...record }));
      if (q.type === Packet.TYPE.MX) for (const m of entry.mx ?? []) add({ type: Packet.TYPE.MX, ...m });
      if (q.type === Packet.TYPE.A) for (const address of entry.a ?? []) add({ type: Packet.TYPE.A, address });
      if (q.type === Packet.TYPE.AAAA) for (const address of entry.aaaa ?? []) add({ type: Packet.TYPE.AAAA, address });
      if (q.type === Packet.TYPE.TXT) for (const data of entry.txt ?? []) add({ type: Packet.TYPE.TXT, data: (data.match(/[\s\S]{1,255}/g) ?? ['']) });
    }
    send(response);
  });
  await server.listen(0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  return {
    server: `127.0.0.1:${port}`,
    queries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
