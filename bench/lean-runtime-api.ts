import { createServer, type Server, type Socket } from 'node:net';

/**
 * A Runtime API that does as little as possible, so that it is not what is
 * measured: fixed answers with an explicit Content-Length on kept-alive
 * sockets, the only per-invoke work the request id and deadline. It answers
 * GET /next with a new request id and every POST with 202.
 *
 * By default it hands out invocations for ever (cold-start and client
 * benchmarks). With `hold: true` a /next waits, as under Lambda between
 * invokes, until `serve(n)` lets n invocations through: a warm window with no
 * start-up in it, timed from each /next answered to its /response received.
 */
export interface LeanRuntimeApi {
  server: Server;
  authority: string;
  /** When the first GET /next since start (or reset) arrived. */
  firstNextAt: () => number | undefined;
  /** POSTs (responses, errors) received since start (or reset). */
  responses: () => number;
  reset: () => void;
  /** Lets `count` invocations through (hold mode); resolves once each is answered. */
  serve: (count: number) => Promise<ServedWindow>;
  /** Connections whose /next waits for an invocation (hold mode): idle runtimes. */
  parkedCount: () => number;
  close: () => Promise<void>;
}

export interface ServedWindow {
  /** Per invocation: ms from the /next answer written to its /response received. */
  latenciesMs: Float64Array;
  /**
   * Per invocation after the first: ms from the previous 202 written to this
   * GET /next received, the runtime's own turnaround between invocations.
   */
  turnaroundsMs: Float64Array;
  /** Invocations answered on /error instead of /response. */
  errors: number;
  wallMs: number;
}

const EVENT = '{"firstName":"Ada"}';
const NEXT_HEAD =
  'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n' +
  'Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\n' +
  `Lambda-Runtime-Trace-Id: Root=1-0-0\r\nContent-Length: ${EVENT.length}\r\nLambda-Runtime-Aws-Request-Id: req-`;
const ACCEPTED = 'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"OK"}';
const INVOCATION_PATH = '/runtime/invocation/req-';

interface Window {
  first: number;
  count: number;
  answered: number;
  errors: number;
  sentAt: Float64Array;
  latenciesMs: Float64Array;
  turnaroundsMs: Float64Array;
  startedAt: number;
  done: (window: ServedWindow) => void;
  fail: (error: Error) => void;
}

export async function startLeanRuntimeApi(options: { hold?: boolean } = {}): Promise<LeanRuntimeApi> {
  let firstNext: number | undefined;
  let responses = 0;
  let sequence = 0;
  // Invocations that may be handed out: all of them unless holding.
  let granted = options.hold ? 0 : Number.POSITIVE_INFINITY;
  const parked: Socket[] = [];
  let window: Window | undefined;

  let acceptedAt = 0;

  const answerNext = (socket: Socket, askedAt: number) => {
    const id = ++sequence;
    if (window && id >= window.first && id < window.first + window.count) {
      const index = id - window.first;
      window.sentAt[index] = performance.now();
      if (index > 0) window.turnaroundsMs[index - 1] = askedAt - acceptedAt;
    }
    socket.write(`${NEXT_HEAD}${id}\r\nLambda-Runtime-Deadline-Ms: ${Date.now() + 3000}\r\n\r\n${EVENT}`);
  };

  const received = (path: string) => {
    responses++;
    const at = path.indexOf(INVOCATION_PATH);
    if (at === -1) {
      window?.fail(new Error(`the runtime posted ${JSON.stringify(path)} (an init error?)`));
      window = undefined;
      return;
    }
    if (!window) return;
    const id = Number.parseInt(path.slice(at + INVOCATION_PATH.length), 10);
    const index = id - window.first;
    if (index < 0 || index >= window.count) return;
    window.latenciesMs[index] = performance.now() - window.sentAt[index]!;
    if (path.endsWith('/error')) window.errors++;
    if (++window.answered === window.count) {
      const { latenciesMs, turnaroundsMs, errors, startedAt, done } = window;
      window = undefined;
      done({ latenciesMs, turnaroundsMs, errors, wallMs: performance.now() - startedAt });
    }
  };

  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      // A runtime that is gone takes no invocation: one handed to it would never be answered.
      const at = parked.indexOf(socket);
      if (at !== -1) parked.splice(at, 1);
    });
    socket.setNoDelay(true);
    socket.on('error', () => {});
    let pending = '';
    socket.on('data', (data) => {
      pending = pending === '' ? data.toString('latin1') : pending + data.toString('latin1');
      for (;;) {
        // Empty lines before a request line are to be ignored (RFC 9112 2.2): a client may send one after a request.
        while (pending.startsWith('\r\n')) pending = pending.slice(2);
        const headEnd = pending.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        let end = headEnd + 4;
        const length = /content-length: *(\d+)/i.exec(pending.slice(0, headEnd))?.[1];
        if (length !== undefined) {
          end += Number(length);
        } else if (/transfer-encoding: *chunked/i.test(pending.slice(0, headEnd))) {
          const last = pending.indexOf('0\r\n\r\n', headEnd + 4);
          if (last === -1) return;
          end = last + 5;
        }
        if (pending.length < end) return;
        const requestLine = pending.slice(0, pending.indexOf('\r\n'));
        pending = pending.slice(end);
        if (requestLine.startsWith('GET')) {
          firstNext ??= performance.timeOrigin + performance.now();
          if (sequence < granted) answerNext(socket, performance.now());
          else parked.push(socket);
        } else {
          received(requestLine.split(' ')[1] ?? requestLine);
          socket.write(ACCEPTED);
          acceptedAt = performance.now();
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
    serve: (count) =>
      new Promise<ServedWindow>((resolve, reject) => {
        if (window) throw new Error('a window is already being served');
        granted = sequence + count;
        window = {
          first: sequence + 1,
          count,
          answered: 0,
          errors: 0,
          sentAt: new Float64Array(count),
          latenciesMs: new Float64Array(count),
          turnaroundsMs: new Float64Array(Math.max(0, count - 1)),
          startedAt: performance.now(),
          done: resolve,
          fail: reject,
        };
        for (const socket of parked.splice(0)) {
          if (socket.destroyed) continue;
          if (sequence < granted) answerNext(socket, performance.now());
          else parked.push(socket);
        }
      }),
    parkedCount: () => parked.length,
    close: async () => {
      parked.length = 0;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
