// AWS's own Node runtime interface client (npm aws-lambda-ric), unchanged, as
// a function of the emulator: what AWS's managed runtime runs, speaking the
// Runtime API through its native (aws-lambda-cpp + curl) client. Each outcome
// must reach the caller as AWS would answer it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emulator } from '../../src/emulator/emulator.ts';
import { decodeEventMessages } from '../../src/emulator/apis/event-stream.ts';
import { invokeHttp, plainJsTaskRoot, requireRic, ricEntry } from '../support/aws-clients.ts';

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// The timeout case alone takes 2 s plus two cold starts of the RIC; room for a busy 2-core machine.
describe('aws-lambda-ric under the emulator', { timeout: 30_000 }, () => {
  let emulator: Emulator;
  const lines: string[] = [];
  const pidOf = async () => (await invokeHttp(emulator.endpoint, 'ric', { action: 'pid' })).json().pid as number;

  beforeAll(async () => {
    requireRic();
    emulator = await Emulator.start({
      functions: [
        {
          name: 'ric',
          // The RIC's bin, run as a container image's ENTRYPOINT + CMD would run it. RIC 4.x takes
          // the handler from _HANDLER (set from `handler`), as under the managed runtime; the
          // argument is what RIC 2.x/3.x read, kept so the command reads like AWS's examples.
          source: { command: [process.execPath, ricEntry, 'index.handler'], taskRoot: plainJsTaskRoot },
          handler: 'index.handler',
          timeoutSeconds: 2,
          memoryMb: 256,
          // One environment, so a replaced one shows as a new process id.
          maxEnvironments: 1,
        },
        {
          name: 'ric-stream',
          source: { command: [process.execPath, ricEntry], taskRoot: plainJsTaskRoot },
          handler: 'index.stream',
        },
        {
          name: 'ric-missing-module',
          source: { command: [process.execPath, ricEntry], taskRoot: plainJsTaskRoot },
          handler: 'nowhere.handler',
        },
      ],
      log: (name, line) => lines.push(`${name}: ${line}`),
    });
  });
  afterAll(async () => emulator?.close());

  it('answers a success with 200 and the handler result, its console lines in the log tail', async () => {
    const answer = await invokeHttp(emulator.endpoint, 'ric', { action: 'echo', firstName: 'Ada' }, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.status).toBe(200);
    const requestId = answer.headers.get('x-amzn-requestid')!;
    expect(requestId).toMatch(REQUEST_ID);
    expect(answer.headers.get('x-amz-function-error')).toBeNull();
    expect(answer.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(answer.headers.get('content-type')).toBe('application/json');
    expect(answer.json()).toEqual({ message: 'Hello, Ada!', requestId, functionName: 'ric' });
    const log = answer.log().split('\n');
    expect(log[0]).toBe(`START RequestId: ${requestId} Version: $LATEST`);
    // The RIC's own console format: timestamp, request id, level, message.
    expect(log).toContainEqual(expect.stringMatching(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\t${requestId}\\tINFO\\techoing Ada$`)));
    expect(log).toContain(`END RequestId: ${requestId}`);
    expect(log.find((line) => line.startsWith('REPORT'))).toMatch(
      /Memory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms/,
    );
  });

  it('answers a handler error with X-Amz-Function-Error: Unhandled and {errorType, errorMessage, trace}', async () => {
    const answer = await invokeHttp(emulator.endpoint, 'ric', { action: 'throw' }, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    const body = answer.json();
    expect(Object.keys(body)).toEqual(['errorType', 'errorMessage', 'trace']);
    expect(body).toMatchObject({ errorType: 'ValidationError', errorMessage: 'firstName is required' });
    expect(body.trace[0]).toBe('ValidationError: firstName is required');
    expect(body.trace.some((frame: string) => frame.includes('index.mjs'))).toBe(true);
    // The RIC logs the error too, as in CloudWatch.
    expect(answer.log()).toMatch(/\tERROR\tInvoke Error \t\{"errorType":"ValidationError"/);
  });

  it('answers a timeout with Sandbox.Timedout, and the next invoke runs in a fresh environment', async () => {
    const before = await pidOf();
    const answer = await invokeHttp(emulator.endpoint, 'ric', { action: 'sleep', ms: 10_000 }, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    const requestId = answer.headers.get('x-amzn-requestid');
    expect(answer.json()).toEqual({
      errorType: 'Sandbox.Timedout',
      errorMessage: `RequestId: ${requestId} Error: Task timed out after 2.00 seconds`,
    });
    expect(answer.log()).toMatch(/\tINFO\tsleeping 10000\n/);
    expect(answer.log()).toMatch(/Task timed out after 2\.00 seconds/);
    const next = await invokeHttp(emulator.endpoint, 'ric', { action: 'echo' }, { 'X-Amz-Log-Type': 'Tail' });
    expect(next.json()).toMatchObject({ message: 'Hello, world!' });
    expect(next.log()).toMatch(/Init Duration: \d+\.\d\d ms/);
    expect(await pidOf()).not.toBe(before);
  });

  it('answers process.exit(1) in the handler with Runtime.ExitError, and the next invoke works', async () => {
    const before = await pidOf();
    const answer = await invokeHttp(emulator.endpoint, 'ric', { action: 'exit' }, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    const requestId = answer.headers.get('x-amzn-requestid');
    expect(answer.json()).toEqual({
      errorType: 'Runtime.ExitError',
      errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status 1`,
    });
    expect(answer.log()).toMatch(/\tINFO\texiting\n/);
    const next = await invokeHttp(emulator.endpoint, 'ric', { action: 'echo', firstName: 'Grace' });
    expect(next.json()).toMatchObject({ message: 'Hello, Grace!' });
    expect(await pidOf()).not.toBe(before);
  });

  it('answers a response over 6 MB with Function.ResponseSizeTooLarge at the 413, and the RIC goes on in the same environment', async () => {
    const before = await pidOf();
    const answer = await invokeHttp(emulator.endpoint, 'ric', { action: 'big', bytes: 7_000_000 });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    // The platform reports it itself; the RIC posts no /error after its 413 (it only logs the status).
    expect(answer.json()).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size exceeded maximum allowed payload size (6291556 bytes).',
    });
    await expect
      .poll(() =>
        lines.some((line) =>
          /^ric: \[ERROR\] \[\d+\] LAMBDA_RUNTIME Failed to post handler success response\. Http response code: 413\./.test(line),
        ),
      )
      .toBe(true);
    expect(await pidOf()).toBe(before);
  });

  it('streams a streamifyResponse handler through InvokeWithResponseStream, the RIC posting it chunked', async () => {
    const response = await fetch(`${emulator.endpoint}/2021-11-15/functions/ric-stream/response-streaming-invocations`, {
      method: 'POST',
      body: '{}',
    });
    expect(response.status).toBe(200);
    const { messages, rest } = decodeEventMessages(Buffer.from(await response.arrayBuffer()));
    expect(rest.byteLength).toBe(0);
    const events = messages.map((message) => message.headers[':event-type']);
    expect(events.at(-1)).toBe('InvokeComplete');
    expect(events.slice(0, -1).every((event) => event === 'PayloadChunk')).toBe(true);
    const body = Buffer.concat(messages.slice(0, -1).map((message) => message.payload)).toString();
    expect(body).toBe('first,second');
    expect(JSON.parse(messages.at(-1)!.payload.toString())).toEqual({});
  });

  it('answers a handler module that cannot be found with the RIC init error Runtime.ImportModuleError', async () => {
    const answer = await invokeHttp(emulator.endpoint, 'ric-missing-module', {}, { 'X-Amz-Log-Type': 'Tail' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(answer.json()).toMatchObject({ errorType: 'Runtime.ImportModuleError', errorMessage: expect.stringMatching(/nowhere/) });
    expect(answer.log()).toMatch(
      /INIT_REPORT Init Duration: \d+\.\d\d ms\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError/,
    );
  });
});
