// Entry of dist/kafkajs-patch.cjs (see kafkajs-patch.ts).
import { patchKafkajsCrc32c, patchKafkajsIdleLoop } from './kafkajs-patch.ts';

patchKafkajsCrc32c(__filename);
patchKafkajsIdleLoop(__filename);
