/**
 * Chunked transfer encoding, both ways: the body of a streamed answer the
 * runtime writes, and a chunked response body it reads.
 */
import type { Socket } from 'node:net';
import { RuntimeApiProtocolError } from '../errors.ts';
import { CRLF, type ApiResponse } from './head-parser.ts';

/** A request body being written in chunks; see ApiConnection.openChunkedRequest. */
export class ChunkedRequestBody {
  readonly response: Promise<ApiResponse>;
  #socket: Socket;
  #ended = false;

  constructor(socket: Socket, response: Promise<ApiResponse>) {
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
    let tail = `0\r\n`;
    if (trailers) {
      for (const [name, value] of Object.entries(trailers)) tail += `${name}: ${value}\r\n`;
    }
    this.#socket.write(tail + CRLF);
  }
}

/** Decodes a complete chunked body starting at `start`, or returns undefined if more bytes are needed. */
export function decodeChunked(data: Buffer, start: number): { body: Buffer; consumed: number } | undefined {
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
