/**
 * Pure builders for the requests of the Runtime API and of the Extensions,
 * Telemetry and Logs APIs: request line and headers as text, without the
 * blank line that ends the head, so the connection can add Content-Length or
 * Transfer-Encoding itself. Paths and header names come from runtime/protocol;
 * the fixed parts of each head are joined once, when this module loads.
 */
import {
  EXTENSION_ACCEPT_FEATURE_HEADER,
  EXTENSION_EXIT_ERROR_PATH,
  EXTENSION_FUNCTION_ERROR_TYPE_HEADER,
  EXTENSION_IDENTIFIER_HEADER,
  EXTENSION_INIT_ERROR_PATH,
  EXTENSION_NAME_HEADER,
  EXTENSION_NEXT_EVENT_PATH,
  EXTENSION_REGISTER_PATH,
  FUNCTION_ERROR_BODY_TRAILER,
  FUNCTION_ERROR_TYPE_HEADER,
  INIT_ERROR_PATH,
  INVOCATION_ID_HEADER,
  LOGS_API_PATH,
  NEXT_INVOCATION_PATH,
  RESPONSE_MODE_HEADER,
  STREAMING_RESPONSE_MODE,
  TELEMETRY_API_PATH,
  invocationErrorPath,
  invocationResponsePath,
} from '../protocol/index.ts';

export interface RequestTarget {
  /** host:port of the Runtime API, as in AWS_LAMBDA_RUNTIME_API. */
  authority: string;
}

const JSON_CONTENT = `Content-Type: application/json\r\n`;
const STREAMING_FIELDS =
  `${RESPONSE_MODE_HEADER}: ${STREAMING_RESPONSE_MODE}\r\n` + `Trailer: ${FUNCTION_ERROR_TYPE_HEADER}, ${FUNCTION_ERROR_BODY_TRAILER}\r\n`;

/** Request line, Host and `extra` header lines; `path` is absolute (it names the API version). */
function requestHead(method: string, path: string, target: RequestTarget, extra = ''): string {
  return `${method} ${path} HTTP/1.1\r\nHost: ${target.authority}\r\n${extra}`;
}

/** Header values must be visible ASCII on the wire; anything else is replaced rather than rejected. */
export function headerSafe(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?');
}

/** `value` as one path segment. Request ids are UUIDs: checking that nothing needs escaping is cheaper than escaping. */
function pathSegment(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    // A-Z a-z 0-9 - . _ ~ (RFC 3986 unreserved)
    const unreserved =
      (code >= 97 && code <= 122) ||
      (code >= 65 && code <= 90) ||
      (code >= 48 && code <= 57) ||
      code === 45 ||
      code === 46 ||
      code === 95 ||
      code === 126;
    if (!unreserved) return encodeURIComponent(value);
  }
  return value;
}

function echo(invocationId: string | undefined): string {
  return invocationId === undefined ? '' : `${INVOCATION_ID_HEADER}: ${headerSafe(invocationId)}\r\n`;
}

export function nextInvocationRequest(target: RequestTarget): string {
  return requestHead('GET', NEXT_INVOCATION_PATH, target);
}

export function invocationResponseRequest(target: RequestTarget, requestId: string, invocationId?: string): string {
  return requestHead('POST', invocationResponsePath(pathSegment(requestId)), target, `${JSON_CONTENT}${echo(invocationId)}`);
}

export function streamingResponseRequest(target: RequestTarget, requestId: string, contentType: string, invocationId?: string): string {
  return requestHead(
    'POST',
    invocationResponsePath(pathSegment(requestId)),
    target,
    `Content-Type: ${headerSafe(contentType)}\r\n${STREAMING_FIELDS}${echo(invocationId)}`,
  );
}

export function invocationErrorRequest(target: RequestTarget, requestId: string, errorType: string, invocationId?: string): string {
  return requestHead(
    'POST',
    invocationErrorPath(pathSegment(requestId)),
    target,
    `${JSON_CONTENT}${FUNCTION_ERROR_TYPE_HEADER}: ${headerSafe(errorType)}\r\n${echo(invocationId)}`,
  );
}

export function initErrorRequest(target: RequestTarget, errorType: string): string {
  return requestHead('POST', INIT_ERROR_PATH, target, `${JSON_CONTENT}${FUNCTION_ERROR_TYPE_HEADER}: ${headerSafe(errorType)}\r\n`);
}

/** Where a subscription to the Telemetry API or the older Logs API goes. */
export const subscriptionPath = (api: 'telemetry' | 'logs') => (api === 'telemetry' ? TELEMETRY_API_PATH : LOGS_API_PATH);

/** Where an extension's error of `phase` goes. */
export const extensionErrorPath = (phase: 'init' | 'exit') => (phase === 'init' ? EXTENSION_INIT_ERROR_PATH : EXTENSION_EXIT_ERROR_PATH);

const identified = (extensionId: string) => `${EXTENSION_IDENTIFIER_HEADER}: ${headerSafe(extensionId)}\r\n`;

/**
 * The head of POST /extension/register.
 *
 * @example
 * ```ts
 * import { registerRequest } from 'lambda-kit/extension';
 * registerRequest({ authority: '127.0.0.1:9001' }, 'logs-to-file', ['accountId']);
 * // 'POST /2020-01-01/extension/register HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nLambda-Extension-Name: logs-to-file\r\n...'
 * ```
 */
export function registerRequest(target: RequestTarget, name: string, acceptFeatures: readonly string[] = []): string {
  const features = acceptFeatures.length > 0 ? `${EXTENSION_ACCEPT_FEATURE_HEADER}: ${headerSafe(acceptFeatures.join(','))}\r\n` : '';
  return requestHead(
    'POST',
    EXTENSION_REGISTER_PATH,
    target,
    `${EXTENSION_NAME_HEADER}: ${headerSafe(name)}\r\n${features}${JSON_CONTENT}`,
  );
}

/**
 * The head of GET /extension/event/next, for the extension registered as `extensionId`.
 *
 * @example
 * ```ts
 * import { nextEventRequest } from 'lambda-kit/extension';
 * nextEventRequest({ authority: '127.0.0.1:9001' }, registration.extensionId);
 * ```
 */
export function nextEventRequest(target: RequestTarget, extensionId: string): string {
  return requestHead('GET', EXTENSION_NEXT_EVENT_PATH, target, identified(extensionId));
}

/**
 * The head of POST /extension/init/error or /extension/exit/error, `errorType` in its header.
 *
 * @example
 * ```ts
 * import { extensionErrorRequest } from 'lambda-kit/extension';
 * extensionErrorRequest({ authority: '127.0.0.1:9001' }, 'init', extensionId, 'Extension.ConfigError');
 * ```
 */
export function extensionErrorRequest(target: RequestTarget, phase: 'init' | 'exit', extensionId: string, errorType: string): string {
  return requestHead(
    'POST',
    extensionErrorPath(phase),
    target,
    `${identified(extensionId)}${EXTENSION_FUNCTION_ERROR_TYPE_HEADER}: ${headerSafe(errorType)}\r\n${JSON_CONTENT}`,
  );
}

/**
 * The head of the PUT that subscribes an extension to the Telemetry API (or the older Logs API).
 *
 * @example
 * ```ts
 * import { subscribeRequest } from 'lambda-kit/extension';
 * subscribeRequest({ authority: '127.0.0.1:9001' }, 'telemetry', extensionId);
 * // 'PUT /2022-07-01/telemetry HTTP/1.1\r\n...'
 * ```
 */
export function subscribeRequest(target: RequestTarget, api: 'telemetry' | 'logs', extensionId: string): string {
  return requestHead('PUT', subscriptionPath(api), target, `${identified(extensionId)}${JSON_CONTENT}`);
}
