// bench/e2e.ts's first import, before anything loads kafkajs: the bench's own producer and
// status reader use kafkajs as the services' bundles do (their dist/kafkajs-patch.cjs), so the
// harness takes as little as it can of the cores the measured services run on.
import { applyKafkajsPatches } from '../libs/kafka/src/kafkajs-patches.ts';

applyKafkajsPatches(import.meta.url);
