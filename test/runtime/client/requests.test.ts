import { describe, expect, it } from 'vitest';
import {
  headerSafe,
  invocationErrorRequest,
  invocationResponseRequest,
  nextInvocationRequest,
  streamingResponseRequest,
} from '../../../runtime/client/requests.ts';
import { extensionErrorRequest, nextEventRequest, registerRequest, subscribeRequest } from '../../../runtime/extension/index.ts';

const target = { authority: '127.0.0.1:9001' };

describe('Runtime API request builders', () => {
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

// The wire contract, byte for byte: what AWS documents for the Extensions, Telemetry and Logs APIs.
describe('Extensions API request builders', () => {
  it('register: name, accepted features, JSON body follows', () => {
    expect(registerRequest(target, 'logs-to-file', ['accountId'])).toBe(
      'POST /2020-01-01/extension/register HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n' +
        'Lambda-Extension-Name: logs-to-file\r\nLambda-Extension-Accept-Feature: accountId\r\nContent-Type: application/json\r\n',
    );
    expect(registerRequest(target, 'plain')).not.toMatch(/Accept-Feature/);
  });

  it('next: the identifier from register', () => {
    expect(nextEventRequest(target, 'abc-123')).toBe(
      'GET /2020-01-01/extension/event/next HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nLambda-Extension-Identifier: abc-123\r\n',
    );
  });

  it('init/error and exit/error: the error type in Lambda-Extension-Function-Error-Type', () => {
    expect(extensionErrorRequest(target, 'init', 'abc', 'Extension.InitError')).toBe(
      'POST /2020-01-01/extension/init/error HTTP/1.1\r\nHost: 127.0.0.1:9001\r\nLambda-Extension-Identifier: abc\r\n' +
        'Lambda-Extension-Function-Error-Type: Extension.InitError\r\nContent-Type: application/json\r\n',
    );
    expect(extensionErrorRequest(target, 'exit', 'abc', 'Extension.Unhandled')).toMatch(/^POST \/2020-01-01\/extension\/exit\/error /);
  });

  it('subscribe: PUT to the Telemetry API (2022-07-01) or the Logs API (2020-08-15)', () => {
    expect(subscribeRequest(target, 'telemetry', 'abc')).toMatch(/^PUT \/2022-07-01\/telemetry HTTP\/1.1\r\n/);
    expect(subscribeRequest(target, 'logs', 'abc')).toMatch(/^PUT \/2020-08-15\/logs HTTP\/1.1\r\n/);
  });

  it('never lets a header value break the head', () => {
    expect(nextEventRequest(target, 'a\r\nInjected: yes')).not.toMatch(/\r\nInjected/);
  });
});
