import { describe, expect, it } from 'vitest';
import { detectHttpEventSource, handle, type HttpEventSource } from '../../../runtime/http/index.ts';
import { allEventFixtures, honoEcho, lambdaContext, loadEvent, plainEcho, type Echo } from './support.ts';

interface Expected {
  source: HttpEventSource;
  method: string;
  url: string;
  body?: string;
  cookie?: string;
  sourceIp?: string;
}

// What each real-shaped event must become, decided from AWS's documented formats.
const EXPECTED: Record<string, Expected> = {
  'http/alb_health_check.json': { source: 'alb', method: 'GET', url: 'https://localhost/' },
  'http/alb_multi_value_request.json': {
    source: 'alb',
    method: 'GET',
    cookie: 'name1=value1; name2=value2',
    sourceIp: '72.21.198.66',
    url: 'https://lambda-846800462-us-east-2.elb.amazonaws.com/?myKey=val1&myKey=val2&myOtherKey=val3&myOtherKey=val4',
  },
  // ALB passes the query on undecoded: no second round of encoding.
  'http/alb_multi_value_request_encoded_query_parameters.json': {
    source: 'alb',
    method: 'GET',
    url: 'https://lambda-846800462-us-east-2.elb.amazonaws.com/?myKey=%3FshowAll%3Dtrue&myKey=%3FshowAll%3Dfalse',
  },
  'http/alb_no_host.json': { source: 'alb', method: 'GET', url: 'https://localhost/v1/health/' },
  'http/alb_request.json': {
    source: 'alb',
    method: 'GET',
    url: 'https://lambda-846800462-us-east-2.elb.amazonaws.com/?myKey=val2',
    cookie: 'cookies',
  },
  'http/alb_request_encoded_query_parameters.json': {
    source: 'alb',
    method: 'GET',
    url: 'https://lambda-846800462-us-east-2.elb.amazonaws.com/?myKey=%3FshowAll%3Dtrue',
  },
  'http/apigw_multi_value_proxy_request.json': {
    source: 'api-gateway-v1',
    method: 'POST',
    body: '{\r\n\t"a": 1\r\n}',
    sourceIp: '192.168.196.186',
    url: 'https://gy415nuibc.execute-api.us-east-1.amazonaws.com/hello/world?name=me&multiValueName=you&multiValueName=me',
  },
  'http/apigw_no_host.json': { source: 'api-gateway-v1', method: 'GET', url: 'https://localhost/hello?name=me' },
  'http/apigw_proxy_request.json': {
    source: 'api-gateway-v1',
    method: 'GET',
    url: 'https://wt6mne2s9k.execute-api.us-west-2.amazonaws.com/hello?name=me',
  },
  'http/apigw_request_path_with_space.json': {
    source: 'api-gateway-v2',
    method: 'POST',
    body: 'Hello from Lambda',
    cookie: 'cookie1=value1; cookie2=value2',
    url: 'https://id.execute-api.us-east-1.amazonaws.com/my/path-with%20space?parameter1=value1&parameter1=value2&parameter2=value',
  },
  'http/apigw_v2_proxy_request.json': {
    source: 'api-gateway-v2',
    method: 'POST',
    body: 'Hello from Lambda',
    url: 'https://id.execute-api.us-east-1.amazonaws.com/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  },
  'http/apigw_v2_proxy_request_minimal.json': {
    source: 'api-gateway-v2',
    method: 'GET',
    url: 'https://xxx.execute-api.us-east-1.amazonaws.com/',
  },
  // The named stage "Prod" is in rawPath; routes see the path without it.
  'http/apigw_v2_proxy_request_with_stage_in_path.json': {
    source: 'api-gateway-v2',
    method: 'POST',
    url: 'https://id.execute-api.us-east-1.amazonaws.com/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  },
  'http/apigw_v2_sam_local.json': { source: 'api-gateway-v2', method: 'GET', url: 'http://127.0.0.1:3000/hello', sourceIp: '127.0.0.1' },
  'http/lambda_function_url_request.json': {
    source: 'function-url',
    method: 'GET',
    cookie: 'test=hi',
    sourceIp: '65.78.31.245',
    url: 'https://id.lambda-url.eu-west-2.on.aws/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  },
  'sources/example-alb-lambda-target-request-headers-only.json': {
    source: 'alb',
    method: 'GET',
    url: 'http://lambda-test-alb-1334523864.us-east-1.elb.amazonaws.com/?key=hello',
    sourceIp: '25.12.198.67',
  },
  'sources/example-alb-lambda-target-request-multivalue-headers.json': {
    source: 'alb',
    method: 'GET',
    url: 'http://lambda-test-alb-1234567.us-east-1.elb.amazonaws.com/?key=hello',
    sourceIp: '72.21.198.67',
  },
  'sources/example-apigw-console-request.json': {
    source: 'api-gateway-v1',
    method: 'POST',
    url: 'https://localhost/path/to/resource?foo=bar',
    body: '{"test":"body"}',
  },
  'sources/example-apigw-console-test-request.json': {
    source: 'api-gateway-v1',
    method: 'POST',
    url: 'https://testprefix.testdomainname/myPath',
  },
  'sources/example-apigw-request-catch-all.json': {
    source: 'api-gateway-v1',
    method: 'POST',
    url: 'https://gy415nuibc.execute-api.us-east-1.amazonaws.com/hello/world?name=me',
  },
  'sources/example-apigw-request-multi-value-parameters.json': {
    source: 'api-gateway-v1',
    method: 'POST',
    url: 'https://gy415nuibc.execute-api.us-east-1.amazonaws.com/hello/world?name=me&name=me2',
  },
  'sources/example-apigw-request.json': {
    source: 'api-gateway-v1',
    method: 'POST',
    url: 'https://gy415nuibc.execute-api.us-east-1.amazonaws.com/hello/world?name=me',
  },
  'sources/example-apigw-restapi-openapi-request.json': {
    source: 'api-gateway-v1',
    method: 'POST',
    url: 'https://gy415nuibc.execute-api.us-east-1.amazonaws.com/hello/world?name=me',
  },
  'sources/example-apigw-sam-http-request.json': { source: 'api-gateway-v2', method: 'GET', url: 'http://127.0.0.1:3000/dump?foo=bar' },
  'sources/example-apigw-sam-rest-request.json': { source: 'api-gateway-v1', method: 'GET', url: 'http://127.0.0.1:3000/test' },
  'sources/example-apigw-v2-request-iam.json': {
    source: 'api-gateway-v2',
    method: 'GET',
    cookie: 'cookie1; cookie2',
    url: 'https://id.execute-api.us-east-1.amazonaws.com/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  },
  'sources/example-apigw-v2-request-jwt-authorizer.json': {
    source: 'api-gateway-v2',
    method: 'GET',
    url: 'https://id.execute-api.us-east-1.amazonaws.com/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  },
  'sources/example-apigw-v2-request-lambda-authorizer.json': {
    source: 'api-gateway-v2',
    method: 'GET',
    url: 'https://id.execute-api.us-east-1.amazonaws.com/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  },
  'sources/example-apigw-v2-request-multi-value-parameters.json': {
    source: 'api-gateway-v2',
    method: 'GET',
    url: 'https://id.execute-api.us-east-1.amazonaws.com/my/path?Parameter1=value1&Parameter1=value2',
  },
  'sources/example-apigw-v2-request-no-authorizer.json': {
    source: 'api-gateway-v2',
    method: 'GET',
    url: 'https://aaaaaaaaaa.execute-api.us-west-2.amazonaws.com/',
    sourceIp: '1.2.3.4',
  },
  'sources/example-apigw-websocket-request-disconnect-route.json': {
    source: 'api-gateway-websocket',
    method: 'DELETE',
    url: 'https://abcd1234.execute-api.us-east-1.amazonaws.com/$disconnect',
  },
  'sources/example-apigw-websocket-request-without-method.json': {
    source: 'api-gateway-websocket',
    method: 'GET',
    url: 'https://asdfasdf.execute-api.us-west-2.amazonaws.com/$connect',
    sourceIp: '10.0.0.13',
  },
  // Its domainName "*.execute-api..." is no host name, and it has no Host header.
  'sources/example-apigw-websocket-request.json': {
    source: 'api-gateway-websocket',
    method: 'GET',
    url: 'https://localhost/$connect?name=me',
  },
};

const fixtures = allEventFixtures();
const httpLike = (name: string) => /\/(example-)?(alb|apigw|lambda_function_url)/.test(name);

describe('lambda-kit/http: every HTTP fixture, both directions', () => {
  it('has an expectation for every HTTP fixture, and finds no HTTP source in the others', () => {
    expect(fixtures.filter(httpLike).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const name of fixtures.filter((fixture) => !httpLike(fixture))) {
      expect(detectHttpEventSource(loadEvent(name)), name).toBeUndefined();
    }
  });

  const apps = { 'plain fetch handler': handle(plainEcho), hono: handle(honoEcho()) };
  for (const [appName, handler] of Object.entries(apps)) {
    describe(appName, () => {
      for (const [name, expected] of Object.entries(EXPECTED)) {
        it(`${name} → ${expected.source} ${expected.method} ${expected.url}`, async () => {
          const event = loadEvent(name);
          expect(detectHttpEventSource(event)).toBe(expected.source);
          const result = (await handler(event, lambdaContext())) as Record<string, any>;

          // Request direction: what the app saw.
          expect(result.statusCode).toBe(201);
          const echo = JSON.parse(result.body) as Echo;
          expect(echo.source).toBe(expected.source);
          expect(echo.method).toBe(expected.method);
          expect(echo.url).toBe(expected.url);
          if (expected.body !== undefined) expect(echo.body).toBe(expected.body);
          if (expected.cookie !== undefined) expect(echo.headers.cookie).toBe(expected.cookie);
          if (expected.sourceIp !== undefined) expect(echo.sourceIp).toBe(expected.sourceIp);
          expect(echo.rawEventKeys).toEqual(Object.keys(event).sort());
          const requestId = event.requestContext.requestId ?? 'lambda-request-1';
          expect(echo.requestId).toBe(requestId);

          // Response direction: the shape this source expects back.
          expect(result.isBase64Encoded).toBe(false);
          assertResultShape(expected.source, event, result);
        });
      }
    });
  }
});

function assertResultShape(source: HttpEventSource, event: any, result: Record<string, any>) {
  const cookies = ['session=abc; Path=/; HttpOnly', 'theme=dark; Path=/'];
  switch (source) {
    case 'api-gateway-v1':
      expect(result.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'x-echo': 'yes' });
      expect(result.multiValueHeaders).toEqual({ 'set-cookie': cookies });
      break;
    case 'api-gateway-v2':
    case 'function-url':
      expect(result.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'x-echo': 'yes' });
      expect(result.headers['set-cookie']).toBeUndefined();
      expect(result.cookies).toEqual(cookies);
      break;
    case 'alb':
      expect(result.statusDescription).toBe('201 Created');
      if (event.multiValueHeaders) {
        expect(result.headers).toBeUndefined();
        expect(result.multiValueHeaders).toMatchObject({ 'x-echo': ['yes'], 'set-cookie': cookies });
      } else {
        expect(result.multiValueHeaders).toBeUndefined();
        // Single-value mode: one value per header, and ALB keeps the last Set-Cookie.
        expect(result.headers).toMatchObject({ 'x-echo': 'yes', 'set-cookie': cookies[1] });
      }
      break;
    case 'api-gateway-websocket':
      expect(result.headers).toMatchObject({ 'x-echo': 'yes' });
      expect(Object.keys(result).sort()).toEqual(['body', 'headers', 'isBase64Encoded', 'statusCode']);
      break;
  }
}
