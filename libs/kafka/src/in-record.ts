/** A consumed record, independent of the Kafka client's types. */
export interface InRecord {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Broker timestamp, ms since epoch as a string. */
  timestamp: string;
}
