// The local stand-in for the internet used by `npm start`: a real SMTP server that accepts mail,
// except for recipients whose local part asks for a bounce (see replyFor in libs/testkit).
import { startSink } from '@mta/testkit';

const port = Number(process.argv[2] ?? 2525);
let count = 0;
const sink = await startSink({
  port,
  keep: false,
  onMail: (m) => {
    count++;
    if (count <= 5 || count % 1000 === 0) console.log(`[mail-sink]          received #${count} for ${m.to.join(', ')} (${m.raw.length} bytes)`);
  },
});
console.log(`[mail-sink]          SMTP on 127.0.0.1:${sink.port}: accepts everything except unknown*@ (550 5.1.1), full*@ (452 4.2.2), grey*@/soft*@ (451 4.7.1), blocked*@ (550 5.7.1)`);
const close = () => void sink.close().then(() => process.exit(0));
process.on('SIGTERM', close);
process.on('SIGINT', close);
