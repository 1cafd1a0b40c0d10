/**
 * Pure builders for the Runtime API's requests (2018-06-01): request line and
 * headers as text, without the blank line that ends the head, so the
 * connection can add Content-Length or Transfer-Encoding itself.
 */

export const RUNTIME_API_VERSION = '2018-06-01';

export const ERROR_TYPE_HEADER = 'Lambda-Runtime-Function-Error-Type';
export const ERROR_BODY_TRAILER = 'Lambda-Runtime-Function-Error-Body';
export const RESPONSE_MODE_HEADER = 'Lambda-Runtime-Function-Response-Mode';
export const INVOCATION_ID_HEADER = 'Lambda-Runtime-Invocation-Id';

export interface RequestTarget {
  /** host:port of the Runtime API, as in AWS_LAMBDA_RUNTIME_API. */
  authority: string;
}

const CRLF = '\r\n';

/** Request line, Host and `extra` header lines; `path` is absolute (it names the API version). */
export function requestHead(method: string, path: string, target: RequestTarget, extra = ''): string {
  return `${method} ${path} HTTP/1.1${CRLF}Host: ${target.authority}${CRLF}${extra}`;
}

function head(method: string, path: string, target: RequestTarget, extra = ''): string {
  return requestHead(method, `/${RUNTIME_API_VERSION}${path}`, target, extra);
}

/** Header values must be visible ASCII on the wire; anything else is replaced rather than rejected. */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

function invocationPath(requestId: string, what: 'response' | 'error'): string {
  return `/runtime/invocation/${pathSegment(requestId)}/${what}`;
}

/** `value` as one path segment. Request ids are UUIDs: checking that nothing needs escaping is cheaper than escaping. */
function pathSegment(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    // A-Z a-z 0-9 - . _ ~ (RFC 3986 unreserved)
    const unreserved =
      (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 45 || code === 46 || code === 95 || code === 126;
    if (!unreserved) return encodeURIComponent(value);
  }
  return value;
}

function echo(invocationId: string | undefined): string {
  return invocationId === undefined ? '' : `${INVOCATION_ID_HEADER}: ${headerSafe(invocationId)}${CRLF}`;
}

export function nextInvocationRequest(target: RequestTarget): string {
  return head('GET', '/runtime/invocation/next', target);
}

export function invocationResponseRequest(
  target: RequestTarget,
  requestId: string,
  invocationId?: string,
): string {
  return head(
    'POST',
    invocationPath(requestId, 'response'),
    target,
    `Content-Type: application/json${CRLF}${echo(invocationId)}`,
  );
}

export function streamingResponseRequest(
  target: RequestTarget,
  requestId: string,
  contentType: string,
  invocationId?: string,
): string {
  return head(
    'POST',
    invocationPath(requestId, 'response'),
    target,
    `Content-Type: ${headerSafe(contentType)}${CRLF}` +
      `${RESPONSE_MODE_HEADER}: streaming${CRLF}` +
      `Trailer: ${ERROR_TYPE_HEADER}, ${ERROR_BODY_TRAILER}${CRLF}` +
      echo(invocationId),
  );
}

export function invocationErrorRequest(
  target: RequestTarget,
  requestId: string,
  errorType: string,
  invocationId?: string,
): string {
  return head(
    'POST',
    invocationPath(requestId, 'error'),
    target,
    `Content-Type: application/json${CRLF}${ERROR_TYPE_HEADER}: ${headerSafe(errorType)}${CRLF}${echo(invocationId)}`,
  );
}

export function initErrorRequest(target: RequestTarget, errorType: string): string {
  return head(
    'POST',
    '/runtime/init/error',
    target,
    `Content-Type: application/json${CRLF}${ERROR_TYPE_HEADER}: ${headerSafe(errorType)}${CRLF}`,
  );
}
