import type { IncomingMessage, ServerResponse } from 'node:http';

/** What every API server of the emulator does with a request and its answer. */

/** A request header by its protocol name (Node keeps them lower-cased); the first, when it came more than once. */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Reads the body; undefined when it is larger than `limit` (the rest is drained, not kept). */
export async function readBodyWithin(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).byteLength;
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? undefined : Buffer.concat(chunks);
}

/**
 * Runs the handling of one request in the background: when the client drops
 * the connection mid-request (a runtime or an extension that dies), reading
 * its body fails, and that ends this request, not the server.
 */
export function serve(work: Promise<void>, response: ServerResponse): void {
  work.catch(() => response.destroy());
}

/**
 * Reads a body of at most `limit` bytes. Settles with 'too-large' as soon as
 * it is past the limit, and drains what follows so that the connection stays
 * usable for the client's next request; rejects if the connection drops
 * before the body is whole.
 */
export function readBodyAtMost(request: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    request.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.byteLength;
      if (size <= limit) return void chunks.push(chunk);
      over = true;
      chunks.length = 0;
      resolve('too-large');
    });
    request.on('end', () => resolve(Buffer.concat(chunks, size)));
    // IncomingMessage emits 'error' (ECONNRESET, "aborted") only to a listener; 'close' covers the rest.
    request.on('error', reject);
    request.on('close', () => {
      if (!request.complete) reject(new Error('the connection closed before the body was complete'));
    });
  });
}

export function replyJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

/** A URL path segment decoded, or undefined when its %-escapes are not well-formed UTF-8. */
export function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
