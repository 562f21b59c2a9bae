#!/usr/bin/env node
// A real single-node KRaft Apache Kafka 4.1.1 broker for tests and local development,
// run as a child `java` process from Maven Central jars (no Docker, no Kafka tarball).
//
// Library use (plain ESM, no build step):
//   import { startKafka, kafkaFromEnvOrStart, createTopics, ensureKafkaJars } from '../deploy/kafka/local-kafka.mjs'
//   const kafka = await kafkaFromEnvOrStart()   // KAFKA_BROKERS set: only creates topics there
//   ... use kafka.brokers ('127.0.0.1:PORT') ...
//   await kafka.stop()
//
// Requirements: Java 17+ (`java` on PATH, or JAVA_HOME), Maven (`mvn`) for the first run only,
// kafkajs (root node_modules). The jars are cached in
//   ${KAFKA_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/enhanced-mta/kafka-4.1.1}/libs
//
// Signals: the broker is SIGKILLed (and its temp data dir removed) when this Node process
// exits normally (process 'exit' event). SIGINT/SIGTERM handling belongs to the caller: Node's
// default for them is to die WITHOUT running 'exit' handlers, so a long-running caller should
// install handlers that `await kafka.stop()` and then exit (the CLI below does). If the Node
// process is SIGKILLed the broker survives: its pid is in <dataDir>/broker.pid.
//
// CLI: node deploy/kafka/local-kafka.mjs help

import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;

if (!process.env.KAFKAJS_NO_PARTITIONER_WARNING) process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

export const KAFKA_VERSION = '4.1.1';
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(HERE, '..', '..');
const POM = path.join(HERE, 'pom.xml');
const LOG4J2_CONFIG = path.join(HERE, 'log4j2.properties');
const DEFAULT_TOPICS_FILE = path.join(REPO_ROOT, 'deploy', 'topics.json');
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';
const HOST = '127.0.0.1'; // never "localhost": Node may resolve it to ::1 first
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 20_000;
const LOG_TAIL_LINES = 25;
const RUN_MARKER = '--- local-kafka: starting';

// Sized for the small machine this local broker shares with the five services (2 cores here):
// the serial collector (no concurrent GC threads competing for the cores) and C1 only (no C2
// compilations, which cost the broker more CPU than its own work during its first minutes).
// `npm run bench` on a new broker, 20,000 messages: 0.45 against 0.94 CPU ms per message for the
// broker with G1 and C2 (docs/performance.md). Production runs the official image with its own
// settings; LOCAL_KAFKA_JVM_OPTS replaces these (e.g. G1 and C2 for a long-running broker).
const JVM_OPTS = [
  '-server',
  '-Xms256m',
  '-Xmx768m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-XX:MaxInlineLevel=15',
  '-Djava.awt.headless=true',
];
/** The broker's JVM options: LOCAL_KAFKA_JVM_OPTS (whitespace-separated) replaces the defaults. */
export function brokerJvmOpts(env = process.env) {
  const custom = (env.LOCAL_KAFKA_JVM_OPTS ?? '').trim();
  return custom ? custom.split(/\s+/) : [...JVM_OPTS];
}
// The one-shot storage format tool: small heap, quick JIT, serial GC.
const TOOL_JVM_OPTS = ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];

const defaultLog = (msg) => process.stderr.write(`[local-kafka] ${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Jars

export function kafkaCacheDir() {
  if (process.env.KAFKA_CACHE_DIR) return path.resolve(process.env.KAFKA_CACHE_DIR);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'enhanced-mta', `kafka-${KAFKA_VERSION}`);
}

function pomDigest() {
  return createHash('sha256').update(fs.readFileSync(POM)).digest('hex');
}

// Helper processes (mvn, the format tool) and brokers started by this process: killed if Node
// exits while they run (see installExitHook).
const helpers = new Set();
const scratch = new Set(); // partial download dirs, removed on exit

function runCapture(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { maxBuffer: 32 * 1024 * 1024, ...opts }, (error, stdout, stderr) => {
      helpers.delete(child.pid);
      resolve({ error, stdout: String(stdout ?? ''), stderr: String(stderr ?? '') });
    });
    if (child.pid) {
      helpers.add(child.pid);
      installExitHook();
    }
  });
}

function tailText(text, n = LOG_TAIL_LINES) {
  // mvn -q still emits ANSI colour resets; strip escape codes for readable errors.
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').split('\n').filter((l) => l.trim() !== '');
  const clip = (l) => (l.length > 400 ? `${l.slice(0, 400)}...` : l);
  const tail = lines.slice(-n);
  // Stack traces push the cause out of a plain tail: also list the last ERROR/exception lines.
  const important = lines
    .slice(0, -n)
    .filter((l) => / (ERROR|FATAL) |^\S*(Exception|Error)\b|^Caused by:/.test(l))
    .slice(-8);
  const head = important.length ? [...important.map(clip), '...'] : [];
  return [...head, ...tail.map(clip)].join('\n');
}

/**
 * Resolve the broker classpath once (Maven Central -> cache dir). Returns the libs dir.
 * A marker file (holding the pom.xml digest) is written only after a complete copy, so an
 * interrupted or failed download is retried next time; editing pom.xml also triggers a refetch.
 */
export async function ensureKafkaJars({ log = defaultLog } = {}) {
  const cache = kafkaCacheDir();
  const libs = path.join(cache, 'libs');
  const marker = path.join(cache, 'libs.complete');
  const digest = pomDigest();
  const isComplete = () => {
    try {
      return fs.readFileSync(marker, 'utf8').trim() === digest && fs.existsSync(libs);
    } catch {
      return false;
    }
  };
  if (isComplete()) return libs;

  await fsp.mkdir(cache, { recursive: true });
  for (const f of await fsp.readdir(cache)) {
    const full = path.join(cache, f);
    if (f.startsWith('libs.partial-') && Date.now() - (await fsp.stat(full)).mtimeMs > 3_600_000) {
      await fsp.rm(full, { recursive: true, force: true });
    }
  }
  const partial = path.join(cache, `libs.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  log(`fetching Kafka ${KAFKA_VERSION} jars from Maven Central (first run only)...`);
  const t0 = Date.now();
  const mvnArgs = [
    '-B', '-q', '-f', POM,
    `${DEPENDENCY_PLUGIN}:copy-dependencies`,
    '-DincludeScope=runtime',
    `-DoutputDirectory=${partial}`,
  ];
  scratch.add(partial);
  const { error, stdout, stderr } = await runCapture('mvn', mvnArgs, { cwd: HERE }).finally(() => scratch.delete(partial));
  if (error) {
    await fsp.rm(partial, { recursive: true, force: true });
    if (error.code === 'ENOENT') {
      throw new Error('local-kafka: `mvn` (Maven) not found on PATH; it is needed once to fetch the Kafka jars');
    }
    throw new Error(`local-kafka: fetching the Kafka jars with Maven failed (exit ${error.code}):\n${tailText(stdout + '\n' + stderr)}`);
  }
  const jars = (await fsp.readdir(partial)).filter((f) => f.endsWith('.jar'));
  if (!jars.some((j) => j.startsWith(`kafka_2.13-${KAFKA_VERSION}`))) {
    await fsp.rm(partial, { recursive: true, force: true });
    throw new Error(`local-kafka: Maven finished but kafka_2.13-${KAFKA_VERSION}.jar is missing in ${partial}`);
  }
  // Another process may have finished first: theirs wins if complete.
  if (isComplete()) {
    await fsp.rm(partial, { recursive: true, force: true });
    return libs;
  }
  await fsp.rm(marker, { force: true });
  await fsp.rm(libs, { recursive: true, force: true });
  try {
    await fsp.rename(partial, libs);
  } catch (e) {
    await fsp.rm(partial, { recursive: true, force: true });
    if (!fs.existsSync(libs)) throw e;
  }
  await fsp.writeFile(marker, `${digest}\n`);
  const bytes = jars.reduce((sum, j) => sum + fs.statSync(path.join(libs, j)).size, 0);
  log(`fetched ${jars.length} jars (${(bytes / 1048576).toFixed(1)} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s into ${libs}`);
  return libs;
}

// ---------------------------------------------------------------------------------------------
// Topics

/** Topics of deploy/topics.json as [{ name, partitions, config }]. */
export function loadDefaultTopics(file = DEFAULT_TOPICS_FILE) {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  return (doc.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitions, config: t.config ?? {} }));
}

function quietKafka(brokers, extra = {}) {
  return new Kafka({
    clientId: 'local-kafka',
    brokers: String(brokers).split(',').map((s) => s.trim()).filter(Boolean),
    logLevel: logLevel.NOTHING,
    ...extra,
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Create topics (idempotent: existing topics are left as they are) and wait until every
 * partition of every listed topic has a leader.
 * @param {string} brokers 'host:port[,host:port...]'
 * @param {{name:string, partitions?:number, replicationFactor?:number, config?:Record<string,string|number>}[]} [topics] default: deploy/topics.json
 * @param {{timeoutMs?:number, log?:(msg:string)=>void}} [opts]
 */
export async function createTopics(brokers, topics = loadDefaultTopics(), { timeoutMs = 30_000, log = defaultLog } = {}) {
  if (!topics || topics.length === 0) return;
  const admin = quietKafka(brokers).admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: false,
        timeout: timeoutMs,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions ?? 1,
          replicationFactor: t.replicationFactor ?? 1,
          configEntries: Object.entries(t.config ?? {}).map(([name, value]) => ({ name, value: String(value) })),
        })),
      });
    }
    const names = topics.map((t) => t.name);
    const deadline = Date.now() + timeoutMs;
    let lastProblem = '';
    for (;;) {
      try {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics: names });
        const notReady = meta.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader == null || p.leader < 0));
        if (notReady.length === 0) {
          for (const t of topics) {
            const m = meta.find((x) => x.name === t.name);
            if (t.partitions && m && m.partitions.length !== t.partitions) {
              log(`topic ${t.name} exists with ${m.partitions.length} partitions (wanted ${t.partitions}); left unchanged`);
            }
          }
          return;
        }
        lastProblem = `no leader yet for ${notReady.map((t) => t.name).join(', ')}`;
      } catch (e) {
        lastProblem = e.message;
      }
      if (Date.now() > deadline) throw new Error(`local-kafka: topics not ready on ${brokers} after ${timeoutMs} ms: ${lastProblem}`);
      await sleep(100);
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Broker process

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function assertPortFree(port, what) {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (e) => {
      reject(new Error(
        e.code === 'EADDRINUSE'
          ? `local-kafka: ${what} port ${HOST}:${port} is already in use (another Kafka running?). Stop it or choose another port.`
          : `local-kafka: cannot bind ${what} port ${HOST}:${port}: ${e.message}`,
      ));
    });
    srv.listen(port, HOST, () => srv.close(() => resolve()));
  });
}

function javaBin() {
  return process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function resolveJava() {
  const bin = javaBin();
  const candidates = bin.includes(path.sep)
    ? [bin]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, bin));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      const real = fs.realpathSync(c);
      return { real, mtimeMs: fs.statSync(real).mtimeMs };
    } catch { /* next */ }
  }
  return null;
}

// Class Data Sharing (AppCDS, JDK 13+ dynamic archives): the first run of each JVM kind dumps
// the classes it loaded into <cache>/cds/*.jsa at exit; later runs map that archive, which
// halves the broker's start (~4.3 s -> ~2.2 s on 2 cores) and trims ~30 MB RSS. The archive
// key covers the jars, the java binary and the JVM flags; a stale or unusable archive is
// ignored by the JVM (-Xshare:auto). Disable with LOCAL_KAFKA_CDS=0.
const CDS_QUIET = ['-Xlog:cds=off', '-Xlog:cds+dynamic=off'];
function cdsFor(kind, jvmOpts) {
  const none = { flags: [], done: async () => {} };
  if (process.env.LOCAL_KAFKA_CDS === '0') return none;
  const java = resolveJava();
  if (!java) return none;
  const dir = path.join(kafkaCacheDir(), 'cds');
  const key = createHash('sha256')
    .update([pomDigest(), java.real, java.mtimeMs, ...jvmOpts].join('\0'))
    .digest('hex')
    .slice(0, 16);
  const file = path.join(dir, `${kind}-${key}.jsa`);
  if (fs.existsSync(file)) return { flags: [`-XX:SharedArchiveFile=${file}`, ...CDS_QUIET], done: async () => {} };
  try {
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(dir)) {
      const full = path.join(dir, f);
      if (f.includes('.tmp-') && Date.now() - fs.statSync(full).mtimeMs > 3_600_000) fs.rmSync(full, { force: true });
    }
  } catch {
    return none;
  }
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  return {
    flags: [`-XX:ArchiveClassesAtExit=${tmp}`, ...CDS_QUIET],
    // keep: the JVM ran as intended and exited by itself (not SIGKILLed), so the dump is whole.
    done: async (keep) => {
      try {
        if (keep && fs.statSync(tmp).size > 0) await fsp.rename(tmp, file);
      } catch { /* no archive this time */ }
      await fsp.rm(tmp, { force: true }).catch(() => {});
    },
  };
}

function serverProperties({ port, controllerPort, logDirs, properties }) {
  const props = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@${HOST}:${controllerPort}`,
    'listeners': `PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': logDirs,
    'num.partitions': '1',
    'default.replication.factor': '1',
    'min.insync.replicas': '1',
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    'group.min.session.timeout.ms': '1000',
    'message.max.bytes': '16777216',
    'replica.fetch.max.bytes': '16777216',
    'log.message.timestamp.after.max.ms': '9223372036854775807',
    'num.recovery.threads.per.data.dir': '1',
    ...Object.fromEntries(Object.entries(properties ?? {}).map(([k, v]) => [k, String(v)])),
  };
  return `# written by deploy/kafka/local-kafka.mjs\n${Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n')}\n`;
}

// Two brokers on one data dir: the second one's controller writes to the shared metadata log
// before its broker half fails on the .lock file, and the first broker then hangs on shutdown.
function assertDataDirUnused(dir) {
  let pid;
  try {
    pid = Number(fs.readFileSync(path.join(dir, 'broker.pid'), 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0) return;
  let cmdline = '';
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    try { process.kill(pid, 0); } catch { return; } // gone (or no /proc and gone)
  }
  if (cmdline === '' || cmdline.includes('kafka.Kafka')) {
    throw new Error(`local-kafka: data dir ${dir} is in use by a running broker (pid ${pid}, see ${path.join(dir, 'broker.pid')}); stop it first or use another --data-dir`);
  }
}

/** A Kafka Uuid: 16 random bytes, unpadded base64url (22 chars). */
function newClusterId() {
  // Like Kafka's Uuid.randomUuid(): ids starting with '-' are avoided (they look like options).
  const id = randomBytes(16).toString('base64url');
  return id.startsWith('-') ? newClusterId() : id;
}

async function readTail(file, n = LOG_TAIL_LINES) {
  try {
    const fh = await fsp.open(file, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 64 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      let text = buf.toString('utf8');
      const runStart = text.lastIndexOf(RUN_MARKER); // only this run's lines in a reused data dir
      if (runStart >= 0) text = text.slice(runStart);
      return tailText(text, n);
    } finally {
      await fh.close();
    }
  } catch {
    return '(no log output)';
  }
}

// Brokers started by this process, killed if Node exits without stopping them.
const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of helpers) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    for (const dir of scratch) {
      try { fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); } catch { /* best effort */ }
    }
    for (const b of live) {
      try { process.kill(b.pid, 'SIGKILL'); } catch { /* already gone */ }
      if (b.tempDir) {
        try { fs.rmSync(b.tempDir, { recursive: true, force: true, maxRetries: 3 }); } catch { /* best effort */ }
      }
    }
  });
}

async function clusterIdOf(brokers) {
  const admin = quietKafka(brokers, { connectionTimeout: 1000, requestTimeout: 2000, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const { clusterId } = await admin.describeCluster();
    return clusterId;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Start a single-node KRaft broker+controller.
 * @param {object} [opts]
 * @param {string} [opts.dataDir] directory for server.properties, kafka.log and the log dirs.
 *   Default: a new temp dir, removed by stop(). A given dir is kept; if it already holds a
 *   formatted broker it is reused (data survives restarts).
 * @param {number} [opts.port] client port (default: a free port)
 * @param {number} [opts.controllerPort] controller port (default: a free port)
 * @param {(msg:string)=>void} [opts.log] progress lines (default: stderr)
 * @param {{name:string, partitions?:number, config?:object}[]|false} [opts.topics] default: deploy/topics.json; false or [] for none
 * @param {Record<string,string|number>} [opts.properties] extra/overriding server.properties entries
 * @param {number} [opts.startTimeoutMs] default 90000
 * @returns {Promise<{brokers:string, port:number, controllerPort:number, dataDir:string, pid:number, clusterId:string, exited:Promise<{code:number|null, signal:string|null}>, stop:()=>Promise<void>}>}
 */
export async function startKafka(opts = {}) {
  const { log = defaultLog, startTimeoutMs = START_TIMEOUT_MS } = opts;
  const libs = await ensureKafkaJars({ log });
  const autoPorts = opts.port == null && opts.controllerPort == null;
  // Free ports can be taken between picking and binding: retry with new ones (auto ports only).
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce({ ...opts, log, startTimeoutMs, libs });
    } catch (e) {
      if (!(autoPorts && e.bindFailure && attempt < 3)) throw e;
      log(`port race (${e.message.split('\n')[0]}), retrying with new ports`);
    }
  }
}

async function startOnce({ dataDir, port, controllerPort, log, topics, properties, startTimeoutMs, libs }) {
  const t0 = Date.now();
  const tempDir = dataDir ? null : await fsp.mkdtemp(path.join(os.tmpdir(), 'enhanced-mta-kafka-'));
  const dir = path.resolve(dataDir ?? tempDir);
  const removeTemp = async () => {
    if (tempDir) await fsp.rm(tempDir, { recursive: true, force: true, maxRetries: 5 }).catch(() => {});
  };
  let child;
  try {
    await fsp.mkdir(dir, { recursive: true });
    assertDataDirUnused(dir);
    if (port == null) port = await freePort();
    else await assertPortFree(port, 'client');
    if (controllerPort == null) {
      do controllerPort = await freePort(); while (controllerPort === port);
    } else await assertPortFree(controllerPort, 'controller');

    const logDirs = path.join(dir, 'kraft-logs');
    const propsFile = path.join(dir, 'server.properties');
    const logFile = path.join(dir, 'kafka.log');
    await fsp.writeFile(propsFile, serverProperties({ port, controllerPort, logDirs, properties }));
    const cp = `${libs}${path.sep}*`;
    const log4j = [`-Dlog4j2.configurationFile=${LOG4J2_CONFIG}`, `-Dkafka.logs.dir=${dir}`];

    let clusterId;
    const metaFile = path.join(logDirs, 'meta.properties');
    if (fs.existsSync(metaFile)) {
      clusterId = /^cluster\.id=(.*)$/m.exec(await fsp.readFile(metaFile, 'utf8'))?.[1]?.trim();
      log(`reusing formatted storage in ${logDirs} (cluster ${clusterId})`);
    } else {
      clusterId = newClusterId();
      const tf = Date.now();
      const cds = cdsFor('format', TOOL_JVM_OPTS);
      const fmt = await runCapture(javaBin(), [
        ...TOOL_JVM_OPTS, ...cds.flags, ...log4j, '-cp', cp, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile,
      ], { cwd: dir, timeout: 60_000 });
      await cds.done(!fmt.error);
      if (fmt.error) {
        if (fmt.error.code === 'ENOENT') throw new Error(`local-kafka: '${javaBin()}' not found; Java 17+ is required`);
        throw new Error(`local-kafka: kafka.tools.StorageTool format failed:\n${tailText(fmt.stdout + '\n' + fmt.stderr)}`);
      }
      log(`formatted storage (cluster ${clusterId}) in ${((Date.now() - tf) / 1000).toFixed(1)} s`);
    }

    const jvmOpts = brokerJvmOpts();
    const cds = cdsFor('broker', jvmOpts);
    let reachedReady = false;
    const out = fs.openSync(logFile, 'a');
    fs.writeSync(out, `${RUN_MARKER} kafka.Kafka ${KAFKA_VERSION} on ${HOST}:${port} at ${new Date().toISOString()}\n`);
    try {
      // Its own process group: a Ctrl-C in the terminal (or `timeout`'s group signal) must not stop
      // the broker under the services; whoever started it stops it (stop(), the exit hook, the CLI's
      // signal handlers) after the services have committed and left.
      child = spawn(javaBin(), [...jvmOpts, ...cds.flags, ...log4j, '-cp', cp, 'kafka.Kafka', propsFile], {
        cwd: dir,
        stdio: ['ignore', out, out],
        detached: true,
      });
    } finally {
      fs.closeSync(out);
    }
    const spawnError = new Promise((_, reject) => child.once('error', reject));
    spawnError.catch(() => {});
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
      .then(async (x) => {
        await cds.done(reachedReady && x.signal === null);
        return x;
      });
    const entry = { pid: child.pid, tempDir };
    if (child.pid) {
      live.add(entry);
      installExitHook();
      await fsp.writeFile(path.join(dir, 'broker.pid'), `${child.pid}\n`).catch(() => {});
    }
    let stopping = null;
    const stop = () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          let timer;
          const timedOut = await Promise.race([
            exited.then(() => false),
            new Promise((r) => { timer = setTimeout(() => r(true), STOP_TIMEOUT_MS); }),
          ]);
          clearTimeout(timer);
          if (timedOut) {
            log(`broker pid ${child.pid} did not stop within ${STOP_TIMEOUT_MS / 1000} s, sending SIGKILL`);
            child.kill('SIGKILL');
            await exited;
          }
        }
        live.delete(entry);
        await removeTemp();
      })();
      return stopping;
    };

    // Wait until the broker answers (and is ours: the cluster id matches), or exits, or times out.
    const brokers = `${HOST}:${port}`;
    const deadline = Date.now() + startTimeoutMs;
    let died = null;
    exited.then((x) => { died = x; });
    let lastError = '';
    for (;;) {
      await Promise.race([spawnError, sleep(0)]);
      if (died) {
        const tail = await readTail(logFile);
        const err = new Error(`local-kafka: broker exited during startup (code ${died.code}, signal ${died.signal}); log ${logFile}:\n${tail}`);
        err.bindFailure = /BindException|Address already in use/.test(tail);
        live.delete(entry);
        await removeTemp();
        throw err;
      }
      try {
        const id = await clusterIdOf(brokers);
        if (id === clusterId) {
          reachedReady = true;
          break;
        }
        lastError = `${brokers} answers with cluster id ${id}, expected ${clusterId} (another broker on that port?)`;
      } catch (e) {
        lastError = e.message;
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`local-kafka: broker did not answer on ${brokers} within ${startTimeoutMs / 1000} s (last error: ${lastError}); log ${logFile}:\n${await readTail(logFile)}`);
      }
      await Promise.race([sleep(100), exited]);
    }
    log(`broker up on ${brokers} in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${child.pid}, data ${dir})`);

    const topicList = topics === false ? [] : topics ?? loadDefaultTopics();
    try {
      await createTopics(brokers, topicList, { log });
    } catch (e) {
      await stop();
      throw e;
    }
    return { brokers, port, controllerPort, dataDir: dir, pid: child.pid, clusterId, exited, stop };
  } catch (e) {
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await removeTemp();
    throw e;
  }
}

/**
 * KAFKA_BROKERS set: create the topics there and return { brokers, stop: no-op }; nothing is
 * started. Otherwise startKafka(opts).
 */
export async function kafkaFromEnvOrStart(opts = {}) {
  const env = process.env.KAFKA_BROKERS;
  if (env) {
    const topics = opts.topics === false ? [] : opts.topics ?? loadDefaultTopics();
    await createTopics(env, topics, { log: opts.log ?? defaultLog });
    return { brokers: env, dataDir: null, pid: null, stop: async () => {} };
  }
  return startKafka(opts);
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `usage:
  node deploy/kafka/local-kafka.mjs start [--port 9092] [--controller-port PORT+1] [--data-dir DIR] [--no-topics]
      run a broker in the foreground until SIGINT/SIGTERM (default data dir: a temp dir, removed on stop;
      a given --data-dir is kept and reused on the next start)
  node deploy/kafka/local-kafka.mjs fetch
      only fetch the jars into the cache (${kafkaCacheDir()}/libs)
  node deploy/kafka/local-kafka.mjs topics [--brokers HOST:PORT]   (default: $KAFKA_BROKERS)
      create the topics of deploy/topics.json on an existing cluster`;

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, inline] = a.slice(2).split(/=(.*)/s, 2);
      if (k.startsWith('no-')) out[k.slice(3)] = false;
      else if (inline !== undefined) out[k] = inline;
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out[k] = argv[++i];
      else out[k] = true;
    } else out._.push(a);
  }
  return out;
}

function portArg(v, name) {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--${name} must be a port number, got ${v}`);
  return n;
}

async function main(argv) {
  const args = parseArgs(argv);
  const cmd = args._[0];
  // Until a broker is ready a signal just exits; the 'exit' hook then SIGKILLs mvn / the
  // format tool / the broker and removes a temp data dir. Once ready, `start` stops gracefully.
  const early = () => process.exit(130);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, early);
  if (cmd === 'fetch') {
    const libs = await ensureKafkaJars();
    console.log(libs);
  } else if (cmd === 'topics') {
    const brokers = typeof args.brokers === 'string' ? args.brokers : process.env.KAFKA_BROKERS;
    if (!brokers) throw new Error('topics: pass --brokers HOST:PORT (or set KAFKA_BROKERS)');
    await createTopics(brokers);
    console.log(`topics ready on ${brokers}`);
  } else if (cmd === 'start') {
    const port = args.port != null ? portArg(args.port, 'port') : 9092;
    const controllerPort = args['controller-port'] != null ? portArg(args['controller-port'], 'controller-port') : port + 1;
    const kafka = await startKafka({
      port,
      controllerPort,
      dataDir: typeof args['data-dir'] === 'string' ? args['data-dir'] : undefined,
      topics: args.topics === false ? false : undefined,
    });
    console.log(`Kafka ready on ${kafka.brokers} (data: ${kafka.dataDir})`);
    let shuttingDown = false;
    const shutdown = async (sig) => {
      if (shuttingDown) return;
      shuttingDown = true;
      defaultLog(`${sig}: stopping broker pid ${kafka.pid}...`);
      await kafka.stop();
      defaultLog('stopped');
      process.exit(0);
    };
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(s, early);
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGHUP', () => shutdown('SIGHUP'));
    const { code, signal } = await kafka.exited;
    if (!shuttingDown) {
      defaultLog(`broker exited unexpectedly (code ${code}, signal ${signal}); log ${path.join(kafka.dataDir, 'kafka.log')}:\n${await readTail(path.join(kafka.dataDir, 'kafka.log'))}`);
      await kafka.stop();
      process.exit(1);
    }
  } else {
    console.log(USAGE);
    process.exitCode = cmd && cmd !== 'help' && cmd !== '--help' && cmd !== '-h' ? 2 : 0;
  }
}

const realpath = (p) => { try { return fs.realpathSync(p); } catch { return path.resolve(p); } };
const invokedDirectly = Boolean(process.argv[1]) && realpath(process.argv[1]) === realpath(fileURLToPath(import.meta.url));
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
