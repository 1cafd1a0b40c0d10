import type { Socket } from 'node:net';
import { RuntimeApiConnectionError, RuntimeApiProtocolError } from './errors.ts';
// See handler-loader.ts: built-ins come from process.getBuiltinModule.
const { connect } = process.getBuiltinModule('node:net');

/**
 * One persistent HTTP/1.1 connection to the Runtime API, one request at a time.
 *
 * The Runtime API is a loopback server with a fixed, tiny protocol surface, so a
 * purpose-built client over node:net beats node:http and fetch on both cold start
 * (nothing beyond node:net is loaded) and CPU per invoke (no parser objects,
 * agents or header validation per request); bench/runtime-client.ts measures it.
 */

export interface HttpResponse {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Map<string, string>;
  body: Buffer;
}

interface PendingRequest {
  resolve(response: HttpResponse): void;
  reject(error: Error): void;
}

const CRLF = '\r\n';
const HEADER_END = Buffer.from('\r\n\r\n');

export class HttpConnection {
  readonly host: string;
  readonly port: number;
  #socket: Socket | undefined;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #pending: PendingRequest | undefined;
  /** Parsed head of the response being received, kept while its body arrives. */
  #head: { status: number; headers: Map<string, string>; bodyStart: number } | undefined;

  #keepsProcessAlive = true;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** "host:port" as in AWS_LAMBDA_RUNTIME_API, IPv6 brackets allowed. */
  static fromAuthority(authority: string): HttpConnection {
    const colon = authority.lastIndexOf(':');
    const host = colon === -1 ? authority : authority.slice(0, colon);
    const port = colon === -1 ? 80 : Number(authority.slice(colon + 1));
    return new HttpConnection(host.replace(/^\[|\]$/g, ''), port);
  }

  /**
   * Whether a request in flight keeps the process alive. False for one that
   * may wait for ever with no reason to hold the process (an idle extension's next).
   */
  keepProcessAlive(keep: boolean): void {
    this.#keepsProcessAlive = keep;
    if (keep) this.#socket?.ref();
    else this.#socket?.unref();
  }

  /** Sends a whole request (head and body in one write) and resolves with the whole response. */
  request(head: string, body?: string | Buffer): Promise<HttpResponse> {
    const response = this.#expectResponse();
    const socket = this.#connected();
    if (body === undefined) {
      socket.write(head + CRLF);
    } else if (typeof body === 'string') {
      socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}${CRLF}${CRLF}${body}`);
    } else {
      socket.cork();
      socket.write(`${head}Content-Length: ${body.byteLength}${CRLF}${CRLF}`);
      socket.write(body);
      socket.uncork();
    }
    return response;
  }

  /**
   * Starts a request whose body is sent with chunked transfer encoding. The caller
   * writes chunks and finally ends the body, optionally with trailers.
   */
  openChunkedRequest(head: string): ChunkedRequestBody {
    const response = this.#expectResponse();
    const socket = this.#connected();
    socket.write(`${head}Transfer-Encoding: chunked${CRLF}${CRLF}`);
    return new ChunkedRequestBody(socket, response);
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #expectResponse(): Promise<HttpResponse> {
    if (this.#pending) {
      throw new RuntimeApiProtocolError('a request is already in flight on this connection');
    }
    return new Promise<HttpResponse>((resolve, reject) => {
      this.#pending = { resolve, reject };
    });
  }

  #connected(): Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const socket = connect({ host: this.host, port: this.port, noDelay: true, keepAlive: true });
    if (!this.#keepsProcessAlive) socket.unref();
    this.#chunks = [];
    this.#buffered = 0;
    this.#head = undefined;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.#fail(
        new RuntimeApiConnectionError(
          `cannot reach the Runtime API at ${this.host}:${this.port} (${error.code ?? error.message})`,
          { cause: error },
        ),
      );
    });
    socket.on('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      this.#fail(
        new RuntimeApiConnectionError(
          `the Runtime API at ${this.host}:${this.port} closed the connection before answering`,
        ),
      );
    });
    this.#socket = socket;
    return socket;
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    this.#head = undefined;
    this.#chunks = [];
    this.#buffered = 0;
    pending?.reject(error);
  }

  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    try {
      this.#parse();
    } catch (error) {
      this.#socket?.destroy();
      this.#fail(error as Error);
    }
  }

  #parse(): void {
    if (!this.#head) {
      const data = this.#joined();
      const end = data.indexOf(HEADER_END);
      if (end === -1) {
        if (this.#buffered > 64 * 1024) {
          throw new RuntimeApiProtocolError('response head from the Runtime API exceeds 64 KiB');
        }
        return;
      }
      // Names are ASCII; some values are UTF-8 JSON (client context, identity): one decode serves both.
      this.#head = parseHead(data.subarray(0, end).toString('utf8'), end + 4);
    }
    const head = this.#head;
    const contentLength = head.headers.get('content-length');
    let body: Buffer;
    let consumed: number;
    if (head.headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) {
      const decoded = decodeChunked(this.#joined(), head.bodyStart);
      if (!decoded) return;
      ({ body, consumed } = decoded);
    } else {
      const length = contentLength === undefined ? 0 : Number(contentLength);
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new RuntimeApiProtocolError(`invalid Content-Length from the Runtime API: ${contentLength}`);
      }
      if (this.#buffered < head.bodyStart + length) return;
      const data = this.#joined();
      body = data.subarray(head.bodyStart, head.bodyStart + length);
      consumed = head.bodyStart + length;
    }
    const rest = this.#joined().subarray(consumed);
    this.#chunks = rest.byteLength > 0 ? [rest] : [];
    this.#buffered = rest.byteLength;
    this.#head = undefined;
    const pending = this.#pending;
    this.#pending = undefined;
    if (head.headers.get('connection')?.toLowerCase() === 'close') this.close();
    pending?.resolve({ status: head.status, headers: head.headers, body });
  }

  #joined(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#buffered)];
    return this.#chunks[0] ?? Buffer.alloc(0);
  }
}

export class ChunkedRequestBody {
  readonly response: Promise<HttpResponse>;
  #socket: Socket;
  #ended = false;

  constructor(socket: Socket, response: Promise<HttpResponse>) {
    this.#socket = socket;
    this.response = response;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Writes one chunk; resolves once the socket can take more (backpressure). */
  write(data: Buffer | Uint8Array | string): Promise<void> | undefined {
    const length = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (length === 0 || this.#ended) return undefined;
    const socket = this.#socket;
    socket.cork();
    socket.write(length.toString(16) + CRLF);
    socket.write(data);
    const flushed = socket.write(CRLF);
    socket.uncork();
    if (flushed || socket.destroyed) return undefined;
    return new Promise<void>((resolve) => {
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }

  /** Ends the body with the zero-length chunk and, if given, HTTP trailers. */
  end(trailers?: Record<string, string>): void {
    if (this.#ended) return;
    this.#ended = true;
    let tail = '0' + CRLF;
    if (trailers) {
      for (const [name, value] of Object.entries(trailers)) tail += `${name}: ${value}${CRLF}`;
    }
    this.#socket.write(tail + CRLF);
  }
}

function parseHead(text: string, bodyStart: number) {
  const lines = text.split(CRLF);
  const statusLine = lines[0] ?? '';
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) {
    throw new RuntimeApiProtocolError(`malformed status line from the Runtime API: ${JSON.stringify(statusLine)}`);
  }
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const previous = headers.get(name);
    headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
  }
  return { status: Number(match[1]), headers, bodyStart };
}

/** Decodes a complete chunked body starting at `start`, or returns undefined if more bytes are needed. */
function decodeChunked(data: Buffer, start: number): { body: Buffer; consumed: number } | undefined {
  const parts: Buffer[] = [];
  let offset = start;
  for (;;) {
    const lineEnd = data.indexOf(CRLF, offset);
    if (lineEnd === -1) return undefined;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1').split(';')[0]!, 16);
    if (Number.isNaN(size)) throw new RuntimeApiProtocolError('malformed chunk size from the Runtime API');
    offset = lineEnd + 2;
    if (size === 0) {
      // Skip trailers up to the empty line.
      for (;;) {
        const end = data.indexOf(CRLF, offset);
        if (end === -1) return undefined;
        if (end === offset) return { body: Buffer.concat(parts), consumed: end + 2 };
        offset = end + 2;
      }
    }
    if (data.byteLength < offset + size + 2) return undefined;
    parts.push(data.subarray(offset, offset + size));
    offset += size + 2;
  }
}
