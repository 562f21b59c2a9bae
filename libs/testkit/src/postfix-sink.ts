import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SMTP_SINK = '/usr/sbin/smtp-sink';

/** Postfix's `smtp-sink` test server on loopback, dumping every message it accepts to a file. */
export interface PostfixSink {
  host: string;
  port: number;
  /** The messages received so far, each as smtp-sink dumped it (its X-Client-*, Received headers, then the message). */
  messages(): Buffer[];
  close(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('data', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });

/**
 * Starts smtp-sink (Debian package `postfix`). Throws when it is not installed. Runs as
 * `nobody` when started by root (smtp-sink refuses to keep root privileges).
 */
export async function startPostfixSink(): Promise<PostfixSink> {
  if (!existsSync(SMTP_SINK)) throw new Error(`${SMTP_SINK} is missing: apt-get install -y postfix`);
  const dir = mkdtempSync(join(tmpdir(), 'mta-smtp-sink-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const args = [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), '-d', join(dir, '%M.'), `127.0.0.1:${port}`, '64'];
  const child: ChildProcess = spawn(SMTP_SINK, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  for (let i = 0; i < 100 && !(await accepts(port)); i++) {
    if (child.exitCode !== null) throw new Error(`smtp-sink exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 30));
  }
  return {
    host: '127.0.0.1',
    port,
    messages: () => readdirSync(dir).sort().map((f) => readFileSync(join(dir, f))),
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
