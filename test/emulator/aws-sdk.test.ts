// The AWS SDK for JavaScript v3 (@aws-sdk/client-lambda), unchanged, against the
// emulator's Invoke API: what it decodes must be what it decodes from AWS.
import {
  InvokeCommand,
  InvokeWithResponseStreamCommand,
  LambdaClient,
  LambdaServiceException,
  ResourceNotFoundException,
  type InvokeWithResponseStreamResponseEvent,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator, type FunctionDefinition } from '../../src/emulator/emulator.ts';
import { fixture } from '../support/function-process.ts';

const node = (script: string): FunctionDefinition['source'] => ({ command: [process.execPath, fixture(script)] });
const json = (payload: Uint8Array | undefined) => JSON.parse(Buffer.from(payload ?? []).toString('utf8'));
const text = (base64: string | undefined) => Buffer.from(base64 ?? '', 'base64').toString('utf8');

describe('@aws-sdk/client-lambda against the emulator', () => {
  let emulator: Emulator;
  let lambda: LambdaClient;

  beforeAll(async () => {
    emulator = await Emulator.start({
      functions: [
        { name: 'behaviours', source: node('behaviours.ts'), timeoutSeconds: 1, memoryMb: 256 },
        { name: 'streaming', source: node('streaming.ts') },
      ],
      log: () => {},
    });
    lambda = new LambdaClient({
      endpoint: emulator.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      // A failure must show, not be retried away.
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    lambda?.destroy();
    await emulator?.close();
  });

  it('InvokeCommand: success gives StatusCode 200, ExecutedVersion, the payload and LogResult', async () => {
    const output = await lambda.send(
      new InvokeCommand({ FunctionName: 'behaviours', Payload: JSON.stringify({ action: 'echo', firstName: 'Ada' }), LogType: 'Tail' }),
    );
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBeUndefined();
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(json(output.Payload)).toEqual({ action: 'echo', firstName: 'Ada' });
    const requestId = output.$metadata.requestId;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const log = text(output.LogResult);
    expect(log).toMatch(new RegExp(`^START RequestId: ${requestId} Version: \\$LATEST\n`));
    expect(log).toMatch(
      new RegExp(`\nREPORT RequestId: ${requestId}\tDuration: [\\d.]+ ms\tBilled Duration: \\d+ ms\tMemory Size: 256 MB`),
    );
  });

  it('InvokeCommand: a handler error gives FunctionError Unhandled and the error document', async () => {
    const output = await lambda.send(
      new InvokeCommand({ FunctionName: 'behaviours', Payload: JSON.stringify({ action: 'throw-error' }), LogType: 'Tail' }),
    );
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    expect(json(output.Payload)).toMatchObject({ errorType: 'ValidationError', errorMessage: 'firstName is required' });
    expect(text(output.LogResult)).toMatch(/REPORT RequestId/);
  });

  it('InvokeCommand: a timeout gives FunctionError Unhandled, Sandbox.Timedout and the timeout in LogResult', async () => {
    const output = await lambda.send(
      new InvokeCommand({ FunctionName: 'behaviours', Payload: JSON.stringify({ action: 'overlap', expected: 99 }), LogType: 'Tail' }),
    );
    expect(output.StatusCode).toBe(200);
    expect(output.FunctionError).toBe('Unhandled');
    expect(json(output.Payload)).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${output.$metadata.requestId} Error: Task timed out after 1.00 seconds`,
    });
    expect(text(output.LogResult)).toMatch(/Task timed out after 1\.00 seconds/);
  });

  it('InvokeCommand: Event gives 202 and DryRun 204, with no payload', async () => {
    const event = await lambda.send(
      new InvokeCommand({ FunctionName: 'behaviours', InvocationType: 'Event', Payload: '{"action":"echo"}' }),
    );
    expect(event.StatusCode).toBe(202);
    expect(event.Payload?.byteLength ?? 0).toBe(0);
    const dryRun = await lambda.send(new InvokeCommand({ FunctionName: 'behaviours', InvocationType: 'DryRun' }));
    expect(dryRun.StatusCode).toBe(204);
  });

  it('InvokeCommand: passes ClientContext (base64 JSON) to the function', async () => {
    const clientContext = { custom: { tenant: 'blue' } };
    const output = await lambda.send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:behaviours',
        Payload: '{"action":"context"}',
        ClientContext: Buffer.from(JSON.stringify(clientContext)).toString('base64'),
      }),
    );
    expect(json(output.Payload)).toMatchObject({ clientContext, functionName: 'behaviours' });
  });

  it('an unknown function surfaces as the typed ResourceNotFoundException', async () => {
    const error = await lambda.send(new InvokeCommand({ FunctionName: 'nope', Payload: '{}' })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    const notFound = error as ResourceNotFoundException;
    expect(notFound.name).toBe('ResourceNotFoundException');
    expect(notFound.$fault).toBe('client');
    expect(notFound.$metadata.httpStatusCode).toBe(404);
    expect(notFound.Type).toBe('User');
    // The SDK folds the body's Message into .message (and drops Message), as it does for AWS's answer.
    expect(notFound.message).toBe('Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope');
  });

  it('a non-JSON payload surfaces as InvalidRequestContentException', async () => {
    const error = await lambda
      .send(new InvokeCommand({ FunctionName: 'behaviours', Payload: Buffer.from('{oops') }))
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LambdaServiceException);
    expect((error as LambdaServiceException).name).toBe('InvalidRequestContentException');
    expect((error as LambdaServiceException).message).toMatch(/^Could not parse request body into json/);
  });

  it('InvokeWithResponseStreamCommand: PayloadChunk events as the function writes, then InvokeComplete', async () => {
    const output = await lambda.send(
      new InvokeWithResponseStreamCommand({ FunctionName: 'streaming', Payload: JSON.stringify({ action: 'chunks' }), LogType: 'Tail' }),
    );
    expect(output.StatusCode).toBe(200);
    expect(output.ExecutedVersion).toBe('$LATEST');
    expect(output.ResponseStreamContentType).toBe('application/vnd.amazon.eventstream');
    const events: Array<{ at: number; event: InvokeWithResponseStreamResponseEvent }> = [];
    for await (const event of output.EventStream!) events.push({ at: Date.now(), event });
    const chunks = events.filter(({ event }) => event.PayloadChunk !== undefined);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
    expect(Buffer.concat(chunks.map(({ event }) => event.PayloadChunk!.Payload!)).toString()).toBe('first,second');
    // The function sleeps 500 ms between its writes: the SDK got the first chunk before the end.
    expect(events.at(-1)!.at - chunks[0]!.at).toBeGreaterThanOrEqual(300);
    const complete = events.at(-1)!.event.InvokeComplete;
    expect(complete).toBeDefined();
    expect(complete!.ErrorCode).toBeUndefined();
    expect(text(complete!.LogResult)).toMatch(/REPORT RequestId/);
    expect(events.filter(({ event }) => event.InvokeComplete !== undefined)).toHaveLength(1);
  });

  it('InvokeWithResponseStreamCommand: a failure midway ends with InvokeComplete carrying ErrorCode and ErrorDetails', async () => {
    const output = await lambda.send(
      new InvokeWithResponseStreamCommand({ FunctionName: 'streaming', Payload: JSON.stringify({ action: 'fail-midway' }) }),
    );
    const events: InvokeWithResponseStreamResponseEvent[] = [];
    for await (const event of output.EventStream!) events.push(event);
    expect(Buffer.from(events[0]!.PayloadChunk!.Payload!).toString()).toBe('partial');
    const complete = events.at(-1)!.InvokeComplete!;
    expect(complete.ErrorCode).toBe('Error');
    expect(JSON.parse(complete.ErrorDetails!)).toMatchObject({ errorMessage: 'broke after the first chunk' });
  });
});
