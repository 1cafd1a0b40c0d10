import type { Socket } from 'node:net';
import { RuntimeApiConnectionError, RuntimeApiProtocolError } from '../errors.ts';
import { ChunkedRequestBody, decodeChunked } from './chunked-body.ts';
import { CRLF, FRAMING, HEAD_END, MAX_HEAD_BYTES, parseHead, type ApiResponse, type ParsedHead } from './head-parser.ts';
// See ../loop/handler-loader.ts: built-ins come from process.getBuiltinModule.
const { connect } = process.getBuiltinModule('node:net');
const { isAscii } = process.getBuiltinModule('node:buffer');

export type { ApiResponse } from './head-parser.ts';

/** Node-style completion: called once, with the result or why there is none. */
export type Done<T> = (error: Error | undefined, value?: T) => void;

const READ_BUFFER_BYTES = 64 * 1024;

/**
 * One persistent HTTP/1.1 connection to the Runtime API (or the Extensions
 * API), one request at a time.
 *
 * The Runtime API is a loopback server with a fixed, tiny protocol surface, so a
 * purpose-built client over node:net beats node:http and fetch on both cold start
 * (nothing beyond node:net is loaded) and CPU per invoke (no parser objects,
 * agents or header validation per request); bench/runtime-client.ts measures it.
 */
export class ApiConnection {
  readonly host: string;
  readonly port: number;
  #socket: Socket | undefined;
  /** Reused by every read of this connection's socket. */
  #readBuffer: Buffer | undefined;
  /** Bytes of a response that came in earlier reads (copies, not views of the read buffer). */
  #chunks: Buffer[] = [];
  #buffered = 0;
  #pending: Done<ApiResponse> | undefined;
  /** What the head of the response in flight is read for: FRAMING, then the request's picks, if it has any. */
  #names: readonly string[] = FRAMING;
  /** The last picks asked for, and FRAMING with them: the runtime loop alternates /next (picks) and its answer (none). */
  #lastPicks: readonly string[] | undefined;
  #lastPickedNames: readonly string[] = FRAMING;
  /** Parsed head of the response being received, kept while its body arrives. */
  #head: ParsedHead | undefined;

  #keepsProcessAlive = true;
  /** The last bodiless request as written (head and blank line): the runtime loop sends the same GET /next every time. */
  #bodilessHead = '';
  #bodilessRequest = '';

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** "host:port" as in AWS_LAMBDA_RUNTIME_API, IPv6 brackets allowed. */
  static fromAuthority(authority: string): ApiConnection {
    const colon = authority.lastIndexOf(':');
    const host = colon === -1 ? authority : authority.slice(0, colon);
    const port = colon === -1 ? 80 : Number(authority.slice(colon + 1));
    return new ApiConnection(host.replace(/^\[|\]$/g, ''), port);
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

  /** Sends a whole request (head and body in one write) and resolves with the whole response; `picks` as for send(). */
  request(head: string, body?: string | Buffer, picks?: readonly string[]): Promise<ApiResponse> {
    return new Promise<ApiResponse>((resolve, reject) => {
      this.send(head, body, (error, response) => (error ? reject(error) : resolve(response!)), picks);
    });
  }

  /**
   * request() for the runtime loop's hot path: `done` is called straight from
   * the socket's read callback, with no promise jobs between the response and the
   * caller's next step. The values of the fields named in `picks` are read
   * along with the head, in the pass that finds its lines (response.picked):
   * the only fields of a head read besides those that frame its body.
   */
  send(head: string, body: string | Buffer | undefined, done: Done<ApiResponse>, picks?: readonly string[]): void {
    this.#expectResponse(done, picks);
    const socket = this.#connected();
    if (body === undefined) {
      if (head !== this.#bodilessHead) {
        this.#bodilessHead = head;
        this.#bodilessRequest = head + CRLF;
      }
      socket.write(this.#bodilessRequest);
    } else if (typeof body === 'string') {
      socket.write(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    } else {
      socket.cork();
      socket.write(`${head}Content-Length: ${body.byteLength}\r\n\r\n`);
      socket.write(body);
      socket.uncork();
    }
  }

  /**
   * Starts a request whose body is sent with chunked transfer encoding. The caller
   * writes chunks and finally ends the body, optionally with trailers.
   */
  openChunkedRequest(head: string): ChunkedRequestBody {
    const response = new Promise<ApiResponse>((resolve, reject) => {
      this.#expectResponse((error, answer) => (error ? reject(error) : resolve(answer!)));
    });
    const socket = this.#connected();
    socket.write(`${head}Transfer-Encoding: chunked\r\n\r\n`);
    return new ChunkedRequestBody(socket, response);
  }

  close(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
  }

  #expectResponse(done: Done<ApiResponse>, picks?: readonly string[]): void {
    if (this.#pending) {
      throw new RuntimeApiProtocolError('a request is already in flight on this connection');
    }
    this.#pending = done;
    if (picks === undefined) {
      this.#names = FRAMING;
      return;
    }
    if (picks !== this.#lastPicks) {
      this.#lastPicks = picks;
      this.#lastPickedNames = [...FRAMING, ...picks];
    }
    this.#names = this.#lastPickedNames;
  }

  #connected(): Socket {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    // onread: bytes go straight to #onRead, skipping the Readable stream machinery (and its buffering) on every response.
    const socket = connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      keepAlive: true,
      onread: {
        // biome-ignore lint/suspicious/noAssignInExpressions: one read buffer per client, made on its first connection
        buffer: (this.#readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES)),
        callback: (length, read) => {
          // `read` is the buffer given above.
          this.#onRead(length, read as Buffer);
          return true;
        },
      },
    });
    if (!this.#keepsProcessAlive) socket.unref();
    this.#chunks = [];
    this.#buffered = 0;
    this.#head = undefined;
    // A socket given up for a newer one (after Connection: close) may still report its end: the request in flight is not its.
    const replaced = () => this.#socket !== undefined && this.#socket !== socket;
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (replaced()) return;
      this.#fail(
        new RuntimeApiConnectionError(`cannot reach the Runtime API at ${this.host}:${this.port} (${error.code ?? error.message})`, {
          cause: error,
        }),
      );
    });
    socket.on('close', () => {
      if (replaced()) return;
      this.#socket = undefined;
      this.#fail(new RuntimeApiConnectionError(`the Runtime API at ${this.host}:${this.port} closed the connection before answering`));
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
    pending?.(error);
  }

  /**
   * Bytes from the socket. `read` is the connection's read buffer, which the
   * next read overwrites: what outlives this call (a partial response, the
   * body handed to the caller) is copied out of it.
   */
  #onRead(length: number, read: Buffer): void {
    let response: ApiResponse | undefined;
    try {
      if (this.#chunks.length === 0) {
        response = this.#parse(read, length, false);
      } else {
        this.#chunks.push(Buffer.from(read.subarray(0, length)));
        this.#buffered += length;
        // A large body comes in many reads: join them once it is all here, not on every read.
        const head = this.#head;
        if (head && !head.chunked && this.#buffered < head.bodyStart + head.contentLength) return;
        const data = Buffer.concat(this.#chunks, this.#buffered);
        this.#chunks = [];
        this.#buffered = 0;
        response = this.#parse(data, data.byteLength, true);
      }
    } catch (error) {
      this.#socket?.destroy();
      this.#fail(error as Error);
      return;
    }
    if (!response) return;
    const pending = this.#pending;
    this.#pending = undefined;
    // Outside the try: what the caller does next (often the next request) is not a parse failure.
    pending?.(undefined, response);
  }

  /**
   * The response in the first `length` bytes of `data` (everything received
   * since the last response), or undefined, keeping those bytes, while some of
   * it has yet to arrive. `owned`: whether `data` is ours to keep, or the read
   * buffer (read in place: a view of it would cost more than the parse).
   */
  #parse(data: Buffer, length: number, owned: boolean): ApiResponse | undefined {
    if (!this.#head && length <= READ_BUFFER_BYTES) {
      // The usual response is ASCII and whole in one read. Decoded as UTF-8, its text has one char per byte
      // exactly when every byte is one char (ASCII, or a stray byte read as U+FFFD, which a UTF-8 body gets anyway):
      // then offsets in the text are offsets in the bytes, and one decode serves head and body.
      const text = data.toString('utf8', 0, length);
      if (text.length === length) {
        // Not `head` and `consumed` again (as below): a bundle renames a repeated name (head2) and lists it in its map.
        const decoded = parseHead(text, this.#names);
        if (decoded) {
          const end = decoded.bodyStart + decoded.contentLength;
          if (!decoded.chunked && end <= length)
            return this.#complete(decoded, text.slice(decoded.bodyStart, end), data, end, length, owned);
          this.#head = decoded;
        }
      }
    }
    if (!this.#head) {
      // latin1 is one char per byte, so offsets in the text are offsets in the buffer.
      const latin1 = parseHead(data.toString('latin1', 0, Math.min(length, MAX_HEAD_BYTES + HEAD_END.length)), this.#names);
      if (!latin1) {
        if (length > MAX_HEAD_BYTES) {
          throw new RuntimeApiProtocolError('response head from the Runtime API exceeds 64 KiB');
        }
        return this.#keep(data, 0, length, owned);
      }
      // Some values are UTF-8 JSON (client context, identity): a head with other bytes than ASCII is read again as
      // UTF-8; the body still starts at its byte offset.
      this.#head = isAscii(new Uint8Array(data.buffer, data.byteOffset, latin1.bodyStart))
        ? latin1
        : { ...parseHead(data.toString('utf8', 0, latin1.bodyStart), this.#names)!, bodyStart: latin1.bodyStart };
    }
    const head = this.#head;
    let body: string;
    let consumed: number;
    if (head.chunked) {
      const decoded = decodeChunked(data.subarray(0, length), head.bodyStart);
      if (!decoded) return this.#keep(data, 0, length, owned);
      body = decoded.body.toString('utf8');
      consumed = decoded.consumed;
    } else {
      consumed = head.bodyStart + head.contentLength;
      if (length < consumed) return this.#keep(data, 0, length, owned);
      // A string: nothing keeps a view of the read buffer.
      body = data.toString('utf8', head.bodyStart, consumed);
    }
    return this.#complete(head, body, data, consumed, length, owned);
  }

  /** The response whose head and body are read; bytes after it (`consumed` up to `length`) are kept. */
  #complete(head: ParsedHead, body: string, data: Buffer, consumed: number, length: number, owned: boolean): ApiResponse {
    // The Runtime API answers one request at a time; anything after the response is kept all the same.
    if (consumed < length) this.#keep(data, consumed, length, owned);
    this.#head = undefined;
    if (head.close) this.close();
    return { status: head.status, picked: head.picked, body };
  }

  #keep(data: Buffer, start: number, end: number, owned: boolean): undefined {
    const kept = owned ? data.subarray(start, end) : Buffer.from(data.subarray(start, end));
    this.#chunks = [kept];
    this.#buffered = kept.byteLength;
    return undefined;
  }
}
