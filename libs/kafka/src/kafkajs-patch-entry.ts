// Entry of dist/kafkajs-patch.cjs (see kafkajs-patch.ts): only what must run before kafkajs loads.
// The idle-loop fix is a prototype method, applied once by client.ts wherever @mta/kafka is loaded.
import { patchKafkajsCrc32c, patchKafkajsMurmur2 } from './kafkajs-patch.ts';
import { patchKafkajsEncoder, patchKafkajsRecordEncoder } from './kafkajs-encoder.ts';
import { patchKafkajsRecordDecoder } from './kafkajs-decoder.ts';
import { patchKafkajsProduceRequest, patchKafkajsRequestFrame } from './kafkajs-produce.ts';

patchKafkajsCrc32c(__filename);
patchKafkajsMurmur2(__filename);
patchKafkajsEncoder(__filename);
patchKafkajsRecordEncoder(__filename);
patchKafkajsProduceRequest(__filename);
patchKafkajsRequestFrame(__filename);
patchKafkajsRecordDecoder(__filename);
