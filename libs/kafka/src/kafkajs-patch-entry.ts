// Entry of dist/kafkajs-patch.cjs (see kafkajs-patch.ts): only what must run before kafkajs loads.
// The idle-loop fix is a prototype method, applied once by client.ts wherever @mta/kafka is loaded.
import { applyKafkajsPatches } from './kafkajs-patches.ts';

applyKafkajsPatches(__filename);
