import { afterEach, describe, expect, it } from 'vitest';
import { InvokeApiServer, type InvokeTarget } from '../../../src/emulator/apis/invoke-api-server.ts';
import type { InvokeRequest, InvokeResult } from '../../../src/emulator/invocation.ts';

/** An InvokeTarget with one function, "echo", that answers with its payload: no Emulator needed. */
function echoTarget(): InvokeTarget & { requests: InvokeRequest[] } {
  const requests: InvokeRequest[] = [];
  return {
    requests,
    has: (name) => name === 'echo',
    functionArn: (name, qualifier) => `arn:aws:lambda:eu-west-1:111122223333:function:${name}${qualifier ? `:${qualifier}` : ''}`,
    invoke: async (_name, request): Promise<InvokeResult> => {
      requests.push(request);
      return {
        requestId: request.requestId!,
        functionError: false,
        body: request.payload,
        contentType: 'application/json',
        streamed: false,
        logs: [],
        report: { durationMs: 1, billedDurationMs: 1, memorySizeMb: 128, maxMemoryUsedMb: undefined, initDurationMs: undefined },
      };
    },
  };
}

describe('InvokeApiServer over an InvokeTarget', () => {
  let api: InvokeApiServer | undefined;
  afterEach(async () => api?.close());

  it("invokes the target's function and answers with its result", async () => {
    const target = echoTarget();
    api = await InvokeApiServer.start(target, { host: '127.0.0.1', port: 0 });
    const answer = await fetch(`${api.endpoint}/2015-03-31/functions/echo/invocations`, { method: 'POST', body: '{"a":1}' });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ a: 1 });
    expect(answer.headers.get('x-amzn-requestid')).toBe(target.requests[0]!.requestId);
  });

  it('answers 404 with the ARN the target gives for a function it does not have', async () => {
    api = await InvokeApiServer.start(echoTarget(), { host: '127.0.0.1', port: 0 });
    const answer = await fetch(`${api.endpoint}/2015-03-31/functions/other:live/invocations`, { method: 'POST', body: '{}' });
    expect(answer.status).toBe(404);
    expect(answer.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    expect(await answer.json()).toEqual({
      Type: 'User',
      Message: 'Function not found: arn:aws:lambda:eu-west-1:111122223333:function:other:live',
    });
  });
});
