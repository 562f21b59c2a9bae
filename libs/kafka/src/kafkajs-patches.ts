// Every patch that must run before kafkajs loads (see kafkajs-patch.ts and the modules below).
import { patchKafkajsCrc32c, patchKafkajsMurmur2 } from './kafkajs-patch.ts';
import { patchKafkajsEncoder, patchKafkajsRecordEncoder } from './kafkajs-encoder.ts';
import { patchKafkajsRecordDecoder } from './kafkajs-decoder.ts';
import { patchKafkajsProduceRequest, patchKafkajsRequestFrame } from './kafkajs-produce.ts';

/** Applies them to the kafkajs that `from` (a file path or URL) resolves. */
export function applyKafkajsPatches(from: string): void {
  patchKafkajsCrc32c(from);
  patchKafkajsMurmur2(from);
  patchKafkajsEncoder(from);
  patchKafkajsRecordEncoder(from);
  patchKafkajsProduceRequest(from);
  patchKafkajsRequestFrame(from);
  patchKafkajsRecordDecoder(from);
}
