/**
 * The ISP simulator on its own: `npm run isp-sim` (Ctrl-C to stop). Prints the settings that
 * point an MTA at it; every 10 s prints what each provider saw. ISP_SIM_TIME_SCALE=k compresses
 * the providers' abuse windows, blocks and greylisting k× (`timeScaled`).
 */
import { startIspSim } from './index.ts';

const sim = await startIspSim({ ...(process.env.ISP_SIM_PORT ? { port: Number(process.env.ISP_SIM_PORT) } : {}), timeScale: Number(process.env.ISP_SIM_TIME_SCALE ?? 1) });
console.log(`ISP simulator: DNS ${sim.dnsServer}, SMTP port ${sim.smtpPort}, time compressed ${sim.timeScale}×`);
for (const p of sim.providers) {
  const L = p.profile.limits;
  console.log(`  ${p.profile.name.padEnd(10)} ${p.profile.ip}  MX ${p.profile.mxHosts.join(',')}  domains ${p.profile.domains.join(',')}  per IP: ${L.messagesPerSecond} msg/s, ${L.maxConnections} conns, ${L.messagesPerConnection} msgs/conn, ${L.connectionsPerSecond} conn/s`);
}
console.log(`\n  MTA_DNS_SERVER=${sim.dnsServer} MTA_SMTP_PORT=${sim.smtpPort} MTA_SMTP_TLS=none\n`);
const timer = setInterval(() => {
  for (const [name, s] of Object.entries(sim.totals().byProvider)) console.log(`  ${name.padEnd(10)} delivered ${s.delivered}, deferred ${JSON.stringify(s.deferred)}, unknown ${s.unknownUser}, blocks ${s.blocks}`);
}, 10_000);
const stop = async () => {
  clearInterval(timer);
  await sim.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
