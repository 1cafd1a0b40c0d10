import { createServer, type Server } from 'node:net';

/**
 * A Runtime API that does as little as possible: fixed responses with explicit
 * Content-Length on a kept-alive socket, so the server is not what is measured.
 * It answers GET /next at once with a new request id and POSTs with 202.
 */
export async function startLeanRuntimeApi(): Promise<{
  server: Server;
  authority: string;
  firstNextAt: () => number | undefined;
  responses: () => number;
  reset: () => void;
}> {
  let firstNext: number | undefined;
  let responses = 0;
  let sequence = 0;
  const event = '{"firstName":"Ada"}';
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    let pending = '';
    socket.on('data', (data) => {
      pending += data.toString('latin1');
      for (;;) {
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const head = pending.slice(0, headEnd);
        const length = /content-length: *(\d+)/i.exec(head)?.[1];
        const bodyLength = length ? Number(length) : 0;
        if (pending.length < headEnd + 4 + bodyLength) return;
        pending = pending.slice(headEnd + 4 + bodyLength);
        if (head.startsWith('GET')) {
          firstNext ??= performance.timeOrigin + performance.now();
          const id = `req-${++sequence}`;
          socket.write(
            `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: ${id}\r\n` +
              `Lambda-Runtime-Deadline-Ms: ${Date.now() + 3000}\r\nLambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\n` +
              `Lambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Length: ${event.length}\r\n\r\n${event}`,
          );
        } else {
          responses++;
          socket.write('HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"OK"}');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    authority: `127.0.0.1:${port}`,
    firstNextAt: () => firstNext,
    responses: () => responses,
    reset: () => {
      firstNext = undefined;
      responses = 0;
    },
  };
}
