import { afterEach, describe, expect, it } from 'vitest';
import { RECENT_REQUESTS, RuntimeApiServer } from '../../../src/emulator/apis/runtime-api-server.ts';

describe('RuntimeApiServer: the record of requests', () => {
  let server: RuntimeApiServer | undefined;
  afterEach(async () => server?.close());

  it(`keeps the latest ${RECENT_REQUESTS} requests, oldest first, and no more`, async () => {
    server = await RuntimeApiServer.start();
    const total = RECENT_REQUESTS + 8;
    for (let index = 0; index < total; index++) {
      const answer = await fetch(`http://${server.address}/2018-06-01/runtime/unknown/${index}`);
      expect(answer.status).toBe(404);
    }
    expect(server.requests).toHaveLength(RECENT_REQUESTS);
    expect(server.requests[0]!.url).toBe(`/2018-06-01/runtime/unknown/${total - RECENT_REQUESTS}`);
    expect(server.requests.at(-1)!).toMatchObject({ method: 'GET', url: `/2018-06-01/runtime/unknown/${total - 1}` });
  });

  it("records an invocation's requests, headers included", async () => {
    server = await RuntimeApiServer.start();
    const outcome = server.invoke({ hello: 'world' }, { requestId: 'r-1', invocationId: 'i-1' });
    const next = await fetch(`http://${server.address}/2018-06-01/runtime/invocation/next`);
    expect(next.headers.get('lambda-runtime-aws-request-id')).toBe('r-1');
    await fetch(`http://${server.address}/2018-06-01/runtime/invocation/r-1/response`, {
      method: 'POST',
      body: JSON.stringify(await next.json()),
      headers: { 'Lambda-Runtime-Invocation-Id': 'i-1' },
    });
    expect((await outcome).kind).toBe('response');
    expect(server.requests.map((request) => request.url)).toEqual([
      '/2018-06-01/runtime/invocation/next',
      '/2018-06-01/runtime/invocation/r-1/response',
    ]);
    expect(server.requests[1]!.headers['lambda-runtime-invocation-id']).toBe('i-1');
  });
});
