import { describe, expect, it } from 'vitest';
import { MissingEnvironmentError, SerializationError, toErrorPayload } from '../../runtime/errors.ts';
import { headerSafe, invocationErrorRequest, invocationResponseRequest, nextInvocationRequest, streamingResponseRequest } from '../../runtime/client/requests.ts';
import { parseHandlerName } from '../../runtime/loop/handler-loader.ts';

describe('toErrorPayload', () => {
  it('keeps a runtime error type and its stable code apart', () => {
    const error = new MissingEnvironmentError('AWS_LAMBDA_FUNCTION_NAME');
    expect(error.code).toBe('LK_RUNTIME_MISSING_ENV');
    expect(toErrorPayload(error).errorType).toBe('Runtime.MissingEnvironmentVariable');
    expect(toErrorPayload(new SerializationError(new TypeError('cyclic'))).errorMessage).toMatch(/cyclic/);
  });

  it('never throws, even for an error whose getters throw', () => {
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'name', { get: () => { throw new Error('no'); } });
    expect(toErrorPayload(hostile).errorType).toBe('handled');
    expect(toErrorPayload(Symbol('s'))).toEqual({ errorType: 'symbol', errorMessage: 'Symbol(s)', stackTrace: [] });
    expect(toErrorPayload(null)).toEqual({ errorType: 'object', errorMessage: 'null', stackTrace: [] });
  });
});

describe('request builders', () => {
  const target = { authority: '127.0.0.1:9001' };

  it('builds the /next request head; the connection adds the blank line that ends it, once', () => {
    expect(nextInvocationRequest(target)).toBe('GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n');
  });

  it('escapes the request id in the path and keeps header values on one line', () => {
    const head = invocationErrorRequest(target, 'a/b c', 'Bad\r\nInjected: yes', 'inv');
    expect(head).toContain('POST /2018-06-01/runtime/invocation/a%2Fb%20c/error HTTP/1.1\r\n');
    // Unreserved characters go as they are; anything else in an id is escaped, wherever it is.
    expect(invocationResponseRequest(target, 'A-z_0.9~')).toContain('/runtime/invocation/A-z_0.9~/response ');
    expect(invocationResponseRequest(target, 'id-1?x=1')).toContain('/runtime/invocation/id-1%3Fx%3D1/response ');
    expect(invocationResponseRequest(target, 'ü')).toContain('/runtime/invocation/%C3%BC/response ');
    expect(head).toContain('Lambda-Runtime-Function-Error-Type: Bad??Injected: yes\r\n');
    expect(head).toContain('Lambda-Runtime-Invocation-Id: inv\r\n');
    expect(headerSafe('ünïcode')).toBe('?n?code');
  });

  it('declares streaming mode and the error trailers', () => {
    const head = streamingResponseRequest(target, 'id', 'text/plain');
    expect(head).toContain('Lambda-Runtime-Function-Response-Mode: streaming\r\n');
    expect(head).toContain('Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n');
    expect(head).toContain('Content-Type: text/plain\r\n');
  });
});

describe('parseHandlerName', () => {
  it.each([
    ['index.handler', { modulePath: 'index', exportPath: 'handler' }],
    ['src/app.main', { modulePath: 'src/app', exportPath: 'main' }],
    ['lib/v1.2/app.handler', { modulePath: 'lib/v1.2/app', exportPath: 'handler' }],
    ['app.nested.fn', { modulePath: 'app', exportPath: 'nested.fn' }],
  ])('splits %s', (name, expected) => {
    expect(parseHandlerName(name)).toEqual(expected);
  });

  it.each(['index', '.handler', 'index.', '../up.handler'])('rejects %s as malformed', (name) => {
    expect(() => parseHandlerName(name)).toThrow(expect.objectContaining({ errorType: 'Runtime.MalformedHandlerName' }));
  });
});
