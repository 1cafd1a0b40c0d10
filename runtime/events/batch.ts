/**
 * Partial batch responses for SQS, Kinesis and DynamoDB Streams: process a
 * batch record by record and tell Lambda which records failed, so only those
 * are retried. Follows AWS's "Reporting batch item failures": the event source
 * mapping must have ReportBatchItemFailures in FunctionResponseTypes, or Lambda
 * ignores the answer and takes the whole batch as processed.
 */
import { InvalidBatchOptionsError, UnsupportedBatchEventError } from './errors.ts';

/** One failed record: the SQS messageId, or the Kinesis / DynamoDB sequence number. */
export interface BatchItemFailure {
  itemIdentifier: string;
}

/** Lambda's partial batch response; the same shape as @types/aws-lambda's SQSBatchResponse, KinesisStreamBatchResponse and DynamoDBBatchResponse. */
export interface BatchResponse {
  batchItemFailures: BatchItemFailure[];
}

/** Where a batch came from, as processBatch tells from the records. */
export type BatchSource = 'sqs' | 'sqs-fifo' | 'kinesis' | 'dynamodb';

export interface BatchOptions {
  /**
   * How many records of a standard SQS queue run at once (default 1; Infinity
   * for all). FIFO queues and streams always go one record at a time, in order.
   */
  concurrency?: number;
}

/** What processBatch reads of a record; SQS, Kinesis and DynamoDB records (parsed or @types') all fit. */
export interface BatchRecord {
  readonly eventSource?: string | undefined;
}

interface SourceRules {
  source: BatchSource;
  /** How the records are named in messages and logs. */
  noun: string;
  /** Where the item identifier is, for messages. */
  field: string;
  identifier(record: Loose): unknown;
}

type Loose = Record<string, unknown> & { kinesis?: Record<string, unknown>; dynamodb?: Record<string, unknown> };

const RULES: Record<string, Omit<SourceRules, 'source'>> = {
  'aws:sqs': { noun: 'SQS message', field: 'messageId', identifier: (record) => record.messageId },
  'aws:kinesis': { noun: 'Kinesis record', field: 'kinesis.sequenceNumber', identifier: (record) => record.kinesis?.sequenceNumber },
  'aws:dynamodb': {
    noun: 'DynamoDB stream record',
    field: 'dynamodb.SequenceNumber',
    identifier: (record) => record.dynamodb?.SequenceNumber,
  },
};

/**
 * Runs `handleRecord` for the records of an SQS, Kinesis or DynamoDB Streams
 * event and returns `{ batchItemFailures }` for the handler to return:
 *
 * - standard SQS queue: every record runs (`concurrency` at a time); each one
 *   that throws is reported.
 * - SQS FIFO queue: records run in order; the first that throws is reported
 *   with every record after it, unprocessed, so the queue's order holds.
 * - Kinesis and DynamoDB streams: the same (Lambda checkpoints at the lowest
 *   failed sequence number and retries from there).
 *
 * Each failure is logged with console.error, naming the record. An event that
 * is not such a batch (no Records, another source, mixed sources, a record
 * without its identifier) throws UnsupportedBatchEventError before any record runs.
 *
 * @example
 * ```ts
 * import type { SQSEvent } from 'aws-lambda';
 * import { processBatch } from 'lambda-kit/events';
 *
 * // The event source mapping has ReportBatchItemFailures in FunctionResponseTypes.
 * export const handler = (event: SQSEvent) => processBatch(event, async (record) => save(JSON.parse(record.body)));
 * ```
 */
export async function processBatch<Item extends BatchRecord>(
  event: { readonly Records: readonly Item[] },
  handleRecord: (record: Item, index: number) => unknown,
  options: BatchOptions = {},
): Promise<BatchResponse> {
  const concurrency = options.concurrency ?? 1;
  if (!(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1))) {
    throw new InvalidBatchOptionsError(`concurrency must be a whole number of at least 1 (or Infinity), not ${concurrency}`);
  }
  const records = (event as { Records?: unknown } | null | undefined)?.Records;
  if (!Array.isArray(records)) {
    throw new UnsupportedBatchEventError(
      'the event has no Records array: processBatch takes the event of an SQS queue, a Kinesis stream or a DynamoDB stream',
    );
  }
  if (records.length === 0) return { batchItemFailures: [] };

  const rules = rulesFor(records as Loose[]);
  const identifiers = records.map((record: Loose, index) => {
    const identifier = rules.identifier(record);
    if (typeof identifier !== 'string' || identifier === '') {
      throw new UnsupportedBatchEventError(
        `record ${index} (${rules.noun}) has no ${rules.field}: Lambda needs it to know which record failed`,
      );
    }
    return identifier;
  });

  const run = async (index: number): Promise<boolean> => {
    try {
      await handleRecord(records[index] as Item, index);
      return true;
    } catch (error) {
      console.error(`${rules.noun} ${identifiers[index]} failed:`, error);
      return false;
    }
  };

  if (rules.source === 'sqs') {
    const failed = await runAll(records.length, concurrency, run);
    return { batchItemFailures: failed.map((index) => ({ itemIdentifier: identifiers[index]! })) };
  }

  for (let index = 0; index < records.length; index++) {
    if (await run(index)) continue;
    const rest = identifiers.slice(index);
    if (rest.length > 1) {
      console.warn(
        `${rest.length - 1} later record(s) not processed after ${identifiers[index]} failed: ` +
          `reported as failed so Lambda retries them in order (${rules.source})`,
      );
    }
    return { batchItemFailures: rest.map((itemIdentifier) => ({ itemIdentifier })) };
  }
  return { batchItemFailures: [] };
}

/** Which source the batch is from: every record must say the same. */
function rulesFor(records: Loose[]): SourceRules {
  const first = records[0]!.eventSource;
  const rules = typeof first === 'string' ? RULES[first] : undefined;
  if (!rules) {
    throw new UnsupportedBatchEventError(
      `record 0 has eventSource ${JSON.stringify(first)}: processBatch reports partial batch failures for ` +
        'aws:sqs, aws:kinesis and aws:dynamodb only (Lambda takes them from no other source)',
    );
  }
  const other = records.findIndex((record) => record.eventSource !== first);
  if (other !== -1) {
    throw new UnsupportedBatchEventError(
      `record ${other} has eventSource ${JSON.stringify(records[other]!.eventSource)} but record 0 has ${JSON.stringify(first)}: ` +
        'a batch comes from one event source mapping',
    );
  }
  const fifo = first === 'aws:sqs' && String(records[0]!.eventSourceARN ?? '').endsWith('.fifo');
  const source: BatchSource = first === 'aws:sqs' ? (fifo ? 'sqs-fifo' : 'sqs') : first === 'aws:kinesis' ? 'kinesis' : 'dynamodb';
  return { ...rules, source };
}

/** Runs every index, `concurrency` at a time; the failed indexes, in order. */
async function runAll(count: number, concurrency: number, run: (index: number) => Promise<boolean>): Promise<number[]> {
  const ok: boolean[] = new Array<boolean>(count).fill(true);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      ok[index] = await run(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return ok.flatMap((passed, index) => (passed ? [] : [index]));
}
