import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SERVICES = ['ingest', 'throttle', 'sender', 'bounce-classifier', 'feedback'] as const;
export type ServiceName = (typeof SERVICES)[number];

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

export interface ServiceProcess {
  name: ServiceName;
  port: number;
  child: ChildProcess;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts one service as its own process (as in production) and waits for /readyz. */
export async function startService(name: ServiceName, env: Record<string, string>, timeoutMs = 60000): Promise<ServiceProcess> {
  const port = await freePort();
  // MTA_PROFILE_DIR=/tmp/prof writes a V8 CPU profile per service process (for `npm run bench`).
  const profile = process.env.MTA_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.MTA_PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  // Services run from their bundles (scripts/build.mjs), as in production; npm test builds first.
  // BENCH_NODE_FLAGS: extra Node/V8 flags for the service processes (measuring flags with `npm run bench`).
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...profile, ...flags, '--enable-source-maps', `services/${name}/dist/main.mjs`], {
    cwd: ROOT,
    env: { ...process.env, ...env, MTA_HTTP_PORT: String(port), LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (b: Buffer) => {
    output.push(b.toString());
    if (output.length > 200) output.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const proc: ServiceProcess = {
    name,
    port,
    child,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}:\n${output.join('')}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (res.status === 200) return proc;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await proc.stop('SIGKILL');
      throw new Error(`${name} not ready after ${timeoutMs} ms:\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
