import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiConnection, type ApiResponse } from '../../../runtime/client/connection.ts';
import { RuntimeApiConnectionError, RuntimeApiProtocolError } from '../../../runtime/errors.ts';

/** A raw TCP server that answers each request with the given bytes, split as the test says. */
async function rawServer(answer: (socket: Socket, request: string) => void): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    let received = '';
    socket.on('data', (data) => {
      received += data.toString('latin1');
      if (received.includes('\r\n\r\n')) {
        const request = received;
        received = '';
        answer(socket, request);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('ApiConnection', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('parses a response whose head and body arrive in many small pieces', async () => {
    const response = 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nX-Multi: a\r\nX-Multi: b\r\n\r\nhello world';
    const started = await rawServer((socket) => {
      for (const char of response) socket.write(char);
    });
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    const result = await connection.request('GET / HTTP/1.1\r\nHost: x\r\n', undefined, ['x-multi']);
    expect(result.status).toBe(200);
    expect(result.body).toBe('hello world');
    expect(result.picked).toEqual(['a, b']);
    connection.close();
  });

  it('decodes a chunked response with trailers and reuses the connection', async () => {
    let connections = 0;
    const started = await rawServer((socket) => {
      socket.write('HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
      setTimeout(() => socket.write('6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n'), 10);
    });
    server = started.server;
    server.on('connection', () => connections++);
    const connection = new ApiConnection('127.0.0.1', started.port);
    for (let i = 0; i < 3; i++) {
      const result = await connection.request('POST / HTTP/1.1\r\nHost: x\r\n', 'body');
      expect(result.status).toBe(202);
      expect(result.body).toBe('hello world');
    }
    expect(connections).toBe(1);
    connection.close();
  });

  it('sends a chunked request body with trailers', async () => {
    let seen = '';
    server = createServer((socket) => {
      socket.on('data', (data) => {
        seen += data.toString('latin1');
        if (seen.endsWith('0\r\nX-Error: E\r\n\r\n')) socket.write('HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const started = { port: (server.address() as { port: number }).port };
    const connection = new ApiConnection('127.0.0.1', started.port);
    const body = connection.openChunkedRequest('POST /s HTTP/1.1\r\nHost: x\r\n');
    await body.write('abc');
    await body.write(Buffer.from('defgh'));
    body.end({ 'X-Error': 'E' });
    expect((await body.response).status).toBe(202);
    expect(seen).toMatch(/^POST \/s HTTP\/1\.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n/);
    expect(seen.slice(seen.indexOf('\r\n\r\n') + 4)).toBe('3\r\nabc\r\n5\r\ndefgh\r\n0\r\nX-Error: E\r\n\r\n');
    connection.close();
  });

  it('rejects with a typed error when the server closes mid-response, and reconnects next time', async () => {
    let calls = 0;
    const started = await rawServer((socket) => {
      calls++;
      if (calls === 1) socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    const error = await connection.request('GET / HTTP/1.1\r\nHost: x\r\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeApiConnectionError);
    expect((error as RuntimeApiConnectionError).code).toBe('LK_RUNTIME_API_UNREACHABLE');
    expect((await connection.request('GET / HTTP/1.1\r\nHost: x\r\n')).body).toBe('ok');
    connection.close();
  });

  it('rejects a reply that is not HTTP with a protocol error', async () => {
    const started = await rawServer((socket) => socket.write('SSH-2.0-OpenSSH\r\n\r\n'));
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    const error = await connection.request('GET / HTTP/1.1\r\nHost: x\r\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeApiProtocolError);
    expect((error as Error).message).toMatch(/malformed status line/);
  });

  it('reads fields in any letter case, trims them, joins repeats, and decodes UTF-8 values (client context JSON)', async () => {
    const context = JSON.stringify({ Custom: { city: 'Zürich', emoji: '🚀' } });
    const body = Buffer.from('{"name":"Ada"}');
    const head =
      'HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id:   id-1  \r\nLAMBDA-RUNTIME-CLIENT-CONTEXT: ' +
      context +
      '\r\nx-repeat: one\r\nX-Repeat:two\r\ncontent-LENGTH: ' +
      body.byteLength +
      '\r\n\r\n';
    const started = await rawServer((socket) => socket.write(Buffer.concat([Buffer.from(head, 'utf8'), body])));
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    const picks = ['lambda-runtime-aws-request-id', 'lambda-runtime-client-context', 'x-repeat', 'x-missing'];
    const result = await connection.request('GET / HTTP/1.1\r\nHost: x\r\n', undefined, picks);
    const [requestId, clientContext, repeated, missing] = result.picked!;
    expect(requestId).toBe('id-1');
    expect(JSON.parse(clientContext!)).toEqual({ Custom: { city: 'Zürich', emoji: '🚀' } });
    expect(repeated).toBe('one, two');
    expect(missing).toBeUndefined();
    expect(result.body).toBe('{"name":"Ada"}');
    connection.close();
  });

  it('reads a large UTF-8 body that spans many reads, and a small one with ASCII head and UTF-8 body in one', async () => {
    const large = JSON.stringify({ text: 'Grüße, 世界 🚀 '.repeat(60_000) });
    const small = JSON.stringify({ city: 'Zürich' });
    const bodies = [large, small];
    const started = await rawServer((socket) => {
      const body = Buffer.from(bodies.shift()!, 'utf8');
      socket.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.byteLength}\r\n\r\n`), body]));
    });
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    expect(Buffer.byteLength(large)).toBeGreaterThan(1024 * 1024);
    expect((await connection.request('GET / HTTP/1.1\r\nHost: x\r\n')).body).toBe(large);
    expect((await connection.request('GET / HTTP/1.1\r\nHost: x\r\n')).body).toBe(small);
    connection.close();
  });

  it('reads a body with a byte that is not UTF-8 as U+FFFD and finds the response after it in the same read', async () => {
    // One char per byte in the decoded text, like ASCII: the one-decode path must still cut the body at the right byte.
    const first = Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na'), Buffer.from([0xff]), Buffer.from('b')]);
    const second = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    const started = await rawServer((socket) => socket.write(Buffer.concat([first, second])));
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    expect((await connection.request('GET / HTTP/1.1\r\nHost: x\r\n')).body).toBe('a\ufffdb');
    // Already received with the first: read from what was kept, no second answer from the server.
    expect((await connection.request('GET / HTTP/1.1\r\nHost: x\r\n')).body).toBe('ok');
    connection.close();
  });

  it('picks the named fields out of the head as it is read: any case, trimmed, repeats joined, UTF-8, missing ones undefined', async () => {
    const context = JSON.stringify({ Custom: { city: 'Zürich' } });
    const head =
      'HTTP/1.1 200 OK\r\nlambda-runtime-aws-request-id:  id-3 \r\nX-Repeat: one\r\nLambda-Runtime-Client-Context: ' +
      context +
      '\r\nx-repeat:two\r\nContent-Length: 2\r\n\r\nok';
    const replies = [Buffer.from(head, 'utf8'), Buffer.from(head.replace(context, '{}'), 'utf8')];
    const started = await rawServer((socket) => {
      // The first reply byte by byte, so the picks survive a head that arrives over many reads.
      const reply = replies.shift()!;
      if (replies.length === 1) for (const byte of reply) socket.write(Buffer.from([byte]));
      else socket.write(reply);
    });
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    const picks = ['Lambda-Runtime-Aws-Request-Id', 'X-Repeat', 'Lambda-Runtime-Client-Context', 'Lambda-Runtime-Trace-Id'];
    for (const expectedContext of [context, '{}']) {
      const response = await new Promise<ApiResponse>((resolve, reject) =>
        connection.send('GET / HTTP/1.1\r\nHost: x\r\n', undefined, (error, answer) => (error ? reject(error) : resolve(answer!)), picks),
      );
      expect(response.picked).toEqual(['id-3', 'one, two', expectedContext, undefined]);
      // Content-Length, read along with the picks, cut the body.
      expect(response.body).toBe('ok');
    }
    // A request without picks gets none.
    replies.push(Buffer.from(head, 'utf8'));
    expect((await connection.request('GET / HTTP/1.1\r\nHost: x\r\n')).picked).toBeUndefined();
    connection.close();
  });

  it('finds fields a server writes in lower case when asked in the Runtime API spelling', async () => {
    const started = await rawServer((socket) =>
      socket.write(
        'HTTP/1.1 200 OK\r\nlambda-runtime-trace-id: Root=1\r\nlambda-runtime-aws-request-id: id-2\r\ncontent-length: 0\r\n\r\n',
      ),
    );
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    const picks = ['Lambda-Runtime-Aws-Request-Id', 'Lambda-Runtime-Trace-Id', 'Lambda-Runtime-Trace-Ix'];
    const { picked } = await connection.request('GET / HTTP/1.1\r\nHost: x\r\n', undefined, picks);
    // Same length, other name: "trace-id" must not match "trace-ix".
    expect(picked).toEqual(['id-2', 'Root=1', undefined]);
    connection.close();
  });

  it.each([
    ['conflicting Content-Length fields', 'Content-Length: 2\r\nContent-Length: 3', /conflicting Content-Length/],
    ['a Content-Length that is not a number', 'Content-Length: 2x', /invalid Content-Length/],
    ['an empty Content-Length', 'Content-Length:', /invalid Content-Length/],
    ['a Content-Length list that disagrees', 'Content-Length: 2, 3', /conflicting Content-Length/],
  ])('rejects %s with a protocol error', async (_, field, message) => {
    const started = await rawServer((socket) => socket.write(`HTTP/1.1 200 OK\r\n${field}\r\n\r\nok`));
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    const error = await connection.request('GET / HTTP/1.1\r\nHost: x\r\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeApiProtocolError);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts a Content-Length repeated with one value (RFC 9110 8.6), and closes on a Connection list that holds close', async () => {
    let connections = 0;
    const started = await rawServer((socket) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2, 2\r\nConnection: Keep-Alive, CLOSE\r\n\r\nok'),
    );
    server = started.server;
    server.on('connection', () => connections++);
    const connection = new ApiConnection('127.0.0.1', started.port);
    for (let i = 1; i <= 2; i++) {
      expect((await connection.request('GET / HTTP/1.1\r\nHost: x\r\n')).body).toBe('ok');
      // The close was read: each request needed a connection of its own.
      expect(connections).toBe(i);
    }
    connection.close();
  });

  it('send() calls back as the response arrives, so the next request can go out at once', async () => {
    let requests = 0;
    const started = await rawServer((socket) => {
      requests++;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${requests}`);
    });
    server = started.server;
    const connection = new ApiConnection('127.0.0.1', started.port);
    const bodies = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      const next = () =>
        connection.send('GET / HTTP/1.1\r\nHost: x\r\n', undefined, (error, response) => {
          if (error) return reject(error);
          seen.push(response!.body);
          if (seen.length === 3) resolve(seen);
          else next();
        });
      next();
    });
    expect(bodies).toEqual(['1', '2', '3']);
    expect(() => {
      connection.send('GET / HTTP/1.1\r\nHost: x\r\n', undefined, () => {});
      connection.send('GET / HTTP/1.1\r\nHost: x\r\n', undefined, () => {});
    }).toThrow(RuntimeApiProtocolError);
    connection.close();
  });

  it('reports a refused connection with the address it tried', async () => {
    const started = await rawServer(() => {});
    started.server.close();
    const connection = new ApiConnection('127.0.0.1', started.port);
    const error = await connection.request('GET / HTTP/1.1\r\nHost: x\r\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeApiConnectionError);
    expect((error as Error).message).toMatch(new RegExp(`127\\.0\\.0\\.1:${started.port}.*ECONNREFUSED`));
  });
});
