import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { InvalidBatchOptionsError, processBatch, UnsupportedBatchEventError, type BatchRecord } from '../../../runtime/events/index.ts';

function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`../../fixtures/events/sources/${name}`, import.meta.url), 'utf8'));
}

const STANDARD_QUEUE = 'arn:aws:sqs:us-west-2:123456789012:orders';
const FIFO_QUEUE = 'arn:aws:sqs:us-west-2:123456789012:orders.fifo';

function sqsEvent(ids: string[], queueArn = STANDARD_QUEUE) {
  const template = fixture('example-sqs-event.json').Records[0];
  return { Records: ids.map((id) => ({ ...template, messageId: id, body: id, eventSourceARN: queueArn })) };
}

function kinesisEvent(sequenceNumbers: string[]) {
  const template = fixture('example-kinesis-event.json').Records[0];
  return {
    Records: sequenceNumbers.map((sequenceNumber) => ({ ...template, kinesis: { ...template.kinesis, sequenceNumber } })),
  };
}

function dynamoDbEvent(sequenceNumbers: string[]) {
  const template = fixture('example-dynamodb-event.json').Records[0];
  return {
    Records: sequenceNumbers.map((SequenceNumber) => ({ ...template, dynamodb: { ...template.dynamodb, SequenceNumber } })),
  };
}

/** A record handler that fails for the given identifiers and remembers what it saw. */
function failing(identify: (record: any) => string, failures: string[]) {
  const seen: string[] = [];
  const handle = vi.fn(async (record: any, _index: number) => {
    const id = identify(record);
    seen.push(id);
    await new Promise((resolve) => setImmediate(resolve));
    if (failures.includes(id)) throw new Error(`cannot process ${id}`);
  });
  return { handle, seen };
}

const failed = (...itemIdentifiers: string[]) => ({ batchItemFailures: itemIdentifiers.map((itemIdentifier) => ({ itemIdentifier })) });

let errors: MockInstance<typeof console.error>;
let warnings: MockInstance<typeof console.warn>;
beforeEach(() => {
  errors = vi.spyOn(console, 'error').mockImplementation(() => {});
  warnings = vi.spyOn(console, 'warn').mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

describe('processBatch: SQS standard queue', () => {
  it('processes every record and reports exactly the failed messageIds, logging each', async () => {
    const { handle, seen } = failing((record) => record.messageId, ['m2', 'm4']);
    const answer = await processBatch(sqsEvent(['m1', 'm2', 'm3', 'm4', 'm5']), handle);
    expect(answer).toEqual(failed('m2', 'm4'));
    expect(seen).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    expect(handle.mock.calls.map(([, index]) => index)).toEqual([0, 1, 2, 3, 4]);
    expect(errors.mock.calls.map(([message]) => message)).toEqual(['SQS message m2 failed:', 'SQS message m4 failed:']);
    expect((errors.mock.calls[0]![1] as Error).message).toBe('cannot process m2');
  });

  it('runs `concurrency` records at once and still reports failures in record order', async () => {
    let running = 0;
    let most = 0;
    const answer = await processBatch(
      sqsEvent(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']),
      async (record) => {
        running++;
        most = Math.max(most, running);
        // Earlier records take longer: they finish after later ones.
        await new Promise((resolve) => setTimeout(resolve, 30 - Number(record.messageId.slice(1)) * 3));
        running--;
        if (record.messageId === 'm1' || record.messageId === 'm6') throw new Error('no');
      },
      { concurrency: 3 },
    );
    expect(most).toBe(3);
    expect(answer).toEqual(failed('m1', 'm6'));
  });

  it('counts a thrown non-Error as a failure', async () => {
    const answer = await processBatch(sqsEvent(['m1', 'm2']), (record) => {
      if (record.messageId === 'm1') throw 'plain string';
    });
    expect(answer).toEqual(failed('m1'));
    expect(errors).toHaveBeenCalledWith('SQS message m1 failed:', 'plain string');
  });
});

describe('processBatch: ordered sources stop at the first failure', () => {
  it('SQS FIFO: reports the failed message and every later one, unprocessed', async () => {
    const { handle, seen } = failing((record) => record.messageId, ['m3', 'm4']);
    const answer = await processBatch(sqsEvent(['m1', 'm2', 'm3', 'm4', 'm5'], FIFO_QUEUE), handle);
    expect(answer).toEqual(failed('m3', 'm4', 'm5'));
    expect(seen).toEqual(['m1', 'm2', 'm3']);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(warnings.mock.calls[0]![0]).toMatch(/^2 later record\(s\) not processed after m3 failed/);
  });

  it('SQS FIFO: one at a time whatever the concurrency', async () => {
    let running = 0;
    let most = 0;
    await processBatch(
      sqsEvent(['m1', 'm2', 'm3'], FIFO_QUEUE),
      async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
      },
      { concurrency: 10 },
    );
    expect(most).toBe(1);
  });

  it('Kinesis: reports sequence numbers from the first failure on', async () => {
    const { handle, seen } = failing((record) => record.kinesis.sequenceNumber, ['4902']);
    const answer = await processBatch(kinesisEvent(['4901', '4902', '4903', '4904']), handle);
    expect(answer).toEqual(failed('4902', '4903', '4904'));
    expect(seen).toEqual(['4901', '4902']);
    expect(errors).toHaveBeenCalledWith('Kinesis record 4902 failed:', expect.any(Error));
  });

  it('DynamoDB Streams: reports sequence numbers from the first failure on', async () => {
    const { handle, seen } = failing((record) => record.dynamodb.SequenceNumber, ['100']);
    const answer = await processBatch(dynamoDbEvent(['100', '200', '300']), handle);
    expect(answer).toEqual(failed('100', '200', '300'));
    expect(seen).toEqual(['100']);
    expect(errors).toHaveBeenCalledWith('DynamoDB stream record 100 failed:', expect.any(Error));
  });

  it('the last record failing reports only itself', async () => {
    const { handle } = failing((record) => record.kinesis.sequenceNumber, ['3']);
    expect(await processBatch(kinesisEvent(['1', '2', '3']), handle)).toEqual(failed('3'));
    expect(warnings).not.toHaveBeenCalled();
  });
});

describe('processBatch: nothing failed', () => {
  it.each([
    ['SQS standard', sqsEvent(['m1', 'm2'])],
    ['SQS FIFO', sqsEvent(['m1', 'm2'], FIFO_QUEUE)],
    ['Kinesis', kinesisEvent(['1', '2'])],
    ['DynamoDB Streams', dynamoDbEvent(['1', '2'])],
  ])('%s: an empty batchItemFailures', async (_source, event) => {
    const handle = vi.fn();
    expect(await processBatch(event as { Records: BatchRecord[] }, handle)).toEqual({ batchItemFailures: [] });
    expect(handle).toHaveBeenCalledTimes(2);
    expect(errors).not.toHaveBeenCalled();
  });

  it('the real fixtures go through as they are', async () => {
    for (const name of ['example-sqs-event.json', 'example-kinesis-event.json', 'example-dynamodb-event.json']) {
      expect(await processBatch(fixture(name), () => {})).toEqual({ batchItemFailures: [] });
    }
  });

  it('an empty batch', async () => {
    const handle = vi.fn();
    expect(await processBatch({ Records: [] }, handle)).toEqual({ batchItemFailures: [] });
    expect(handle).not.toHaveBeenCalled();
  });
});

describe('processBatch: events it cannot answer for', () => {
  async function refusal(event: unknown, options?: { concurrency?: number }) {
    const handle = vi.fn();
    const error = await processBatch(event as { Records: BatchRecord[] }, handle, options).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(handle).not.toHaveBeenCalled();
    return error as Error & { code: string; errorType: string };
  }

  it('another source (SNS): UnsupportedBatchEventError, naming it', async () => {
    const error = await refusal(fixture('example-sns-event.json'));
    expect(error).toBeInstanceOf(UnsupportedBatchEventError);
    expect(error.code).toBe('LK_EVENT_BATCH_UNSUPPORTED');
    expect(error.errorType).toBe('Event.UnsupportedBatch');
    // SNS records spell it EventSource: no eventSource at all.
    expect(error.message).toMatch(
      /^record 0 has eventSource undefined: processBatch reports partial batch failures for aws:sqs, aws:kinesis and aws:dynamodb only/,
    );
    const s3 = await refusal(fixture('example-s3-event.json'));
    expect(s3.message).toMatch(/^record 0 has eventSource "aws:s3"/);
  });

  it('no Records array', async () => {
    const error = await refusal(fixture('example-eventbridge-schedule.json'));
    expect(error).toBeInstanceOf(UnsupportedBatchEventError);
    expect(error.message).toMatch(/^the event has no Records array/);
    expect((await refusal(null)).code).toBe('LK_EVENT_BATCH_UNSUPPORTED');
  });

  it('records from two sources', async () => {
    const event = { Records: [...sqsEvent(['m1']).Records, ...kinesisEvent(['1']).Records] };
    expect((await refusal(event)).message).toBe(
      'record 1 has eventSource "aws:kinesis" but record 0 has "aws:sqs": a batch comes from one event source mapping',
    );
  });

  it('a record without its identifier, before any record runs', async () => {
    const event = dynamoDbEvent(['1', '2']);
    delete (event.Records[1] as any).dynamodb.SequenceNumber;
    expect((await refusal(event)).message).toBe(
      'record 1 (DynamoDB stream record) has no dynamodb.SequenceNumber: Lambda needs it to know which record failed',
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('concurrency %s: InvalidBatchOptionsError', async (concurrency) => {
    const error = await refusal(sqsEvent(['m1']), { concurrency });
    expect(error).toBeInstanceOf(InvalidBatchOptionsError);
    expect(error.code).toBe('LK_EVENT_BATCH_OPTIONS');
  });
});
