import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RuntimeApiServer, type InvocationOutcome } from '../../../src/emulator/apis/runtime-api-server.ts';
import { fixture, startFunction, type FunctionProcess } from '../../support/function-process.ts';

function sqsEvent(bodies: string[]) {
  const template = JSON.parse(readFileSync(new URL('../../fixtures/events/sources/example-sqs-event.json', import.meta.url), 'utf8'))
    .Records[0];
  return { Records: bodies.map((body, index) => ({ ...template, messageId: `msg-${index + 1}`, body })) };
}

function json(outcome: InvocationOutcome): unknown {
  if (outcome.kind !== 'response') throw new Error(`expected a response, got ${outcome.kind}: ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.body.toString('utf8'));
}

// The real runtime loop in its own process: a bad event is one invocation's error, never the process's end.
describe('lambda-kit/events in the runtime loop', () => {
  let server: RuntimeApiServer;
  let fn: FunctionProcess;

  beforeAll(async () => {
    server = await RuntimeApiServer.start();
    fn = startFunction(fixture('parse-orders.ts'), server.address);
  });
  afterAll(async () => {
    await fn.stop();
    await server.close();
  });

  it('answers a good batch with the partial batch response, logging the failed record', async () => {
    const outcome = await server.invoke(
      sqsEvent(['{"orderId":"o-1","quantity":2}', '{"orderId":"o-2","quantity":500}', '{"orderId":"o-3","quantity":1}']),
      { requestId: 'batch-1' },
    );
    expect(json(outcome)).toEqual({ batchItemFailures: [{ itemIdentifier: 'msg-2' }] });
    const [line] = await fn.waitForLines((line) => line.includes('batch-1') && line.includes('\tERROR\t'), 1);
    expect(line).toMatch(/\tERROR\tSQS message msg-2 failed: RangeError: order o-2: at most 100 items/);
  });

  it('reports a bad event as EventValidationError, then serves the next invocation', async () => {
    const outcome = await server.invoke(sqsEvent(['{"orderId":"o-1","quantity":2}', '{"orderId":"o-2"}']));
    if (outcome.kind !== 'error') throw new Error(`expected an error, got ${outcome.kind}`);
    expect(outcome.errorType).toBe('Event.ValidationError');
    expect(outcome.headers['lambda-runtime-function-error-type']).toBe('Event.ValidationError');
    expect(outcome.error.errorMessage).toMatch(
      /^the event does not match the handler's schema: Records\[1\]\.body\.quantity: Invalid input: expected number, received undefined\./,
    );
    expect(outcome.error.trace?.[0]).toMatch(/^Event\.ValidationError: /);

    expect(json(await server.invoke(sqsEvent(['{"orderId":"o-4","quantity":4}'])))).toEqual({ batchItemFailures: [] });
    expect(fn.child.exitCode).toBeNull();
  });

  it('reports an event of another source the same way', async () => {
    const outcome = await server.invoke({ detail: {} });
    expect(outcome.kind === 'error' && outcome.errorType).toBe('Event.ValidationError');
    expect(json(await server.invoke(sqsEvent([])))).toEqual({ batchItemFailures: [] });
  });
});
