import { DeliveryKpisSchema, MtaEventSchema, StatusRecordSchema } from '@mta/contracts';
import type { TSchema } from '@sinclair/typebox';

/** The JSON Schema files published in `schemas/` for analysts, generated from the TypeBox contracts. */
const PUBLISHED: { file: string; topic: string; description: string; schema: TSchema }[] = [
  {
    file: 'mta.status.v1.schema.json',
    topic: 'mta.status',
    description: "Campaign's delivery-log status of one message after each event that changed it (key = messageId). See docs/analysts.md.",
    schema: StatusRecordSchema,
  },
  {
    file: 'mta.delivery-kpis.v1.schema.json',
    topic: 'mta.delivery-kpis',
    description: 'Latest KPI snapshot of one delivery (key = deliveryId, compacted topic). See docs/analysts.md.',
    schema: DeliveryKpisSchema,
  },
  {
    file: 'mta.events.v1.schema.json',
    topic: 'mta.events',
    description: 'Qualified facts about one message that feedback folds into its status (key = messageId). See docs/contracts.md.',
    schema: MtaEventSchema,
  },
];

/** File name → file content. JSON.stringify drops TypeBox's symbol keys, leaving plain JSON Schema. */
export function renderSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of PUBLISHED) {
    const doc = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      title: `${p.topic} record`,
      description: `${p.description} Generated from libs/contracts by \`npm run schemas -w @mta/feedback\`; do not edit.`,
      ...(JSON.parse(JSON.stringify(p.schema)) as object),
    };
    out.set(p.file, `${JSON.stringify(doc, null, 2)}\n`);
  }
  return out;
}
