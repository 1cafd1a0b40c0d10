import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { AlbEventSchema } from '../../../runtime/events/schemas/alb.ts';
import { ApiGatewayV1EventSchema } from '../../../runtime/events/schemas/api-gateway-v1.ts';
import {
  ApiGatewayV2EventSchema,
  ApiGatewayV2IamEventSchema,
  ApiGatewayV2JwtEventSchema,
  ApiGatewayV2LambdaEventSchema,
} from '../../../runtime/events/schemas/api-gateway-v2.ts';
import { ApiGatewayWebSocketEventSchema } from '../../../runtime/events/schemas/api-gateway-websocket.ts';
import { DynamoDbKinesisChangeRecordSchema, DynamoDbStreamEventSchema } from '../../../runtime/events/schemas/dynamodb-stream.ts';
import { EventBridgeEventSchema, eventBridgeEventWithDetail } from '../../../runtime/events/schemas/eventbridge.ts';
import { FunctionUrlEventSchema } from '../../../runtime/events/schemas/function-url.ts';
import { jsonString } from '../../../runtime/events/schemas/json-string.ts';
import { decodeKinesisData, KinesisEventSchema } from '../../../runtime/events/schemas/kinesis.ts';
import { decodeS3Key, S3EventSchema, S3ObjectLambdaEventSchema } from '../../../runtime/events/schemas/s3.ts';
import { SnsEventSchema, snsEventWithMessage } from '../../../runtime/events/schemas/sns.ts';
import { SqsEventSchema, sqsEventWithBody } from '../../../runtime/events/schemas/sqs.ts';

const FIXTURES = new URL('../../fixtures/events/', import.meta.url);

/** Every fixture, as "sources/name.json" / "http/name.json": a new file is picked up by the tests below. */
const fixtureNames = ['sources', 'http'].flatMap((dir) =>
  readdirSync(new URL(`${dir}/`, FIXTURES))
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => `${dir}/${name}`),
);

function load(name: string): any {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));
}

type Raw = any;
type Parsed = any;

interface Source {
  schema: z.ZodType;
  /** Compares fields of the parsed output with the fixture's own values: they must come through, not just parse. */
  check(parsed: Parsed, raw: Raw): void;
}

const records = (value: { Records: unknown[] }) => value.Records as any[];

const alb: Source = {
  schema: AlbEventSchema,
  check(parsed, raw) {
    expect(parsed.requestContext.elb.targetGroupArn).toBe(raw.requestContext.elb.targetGroupArn);
    expect(parsed.httpMethod).toBe(raw.httpMethod);
    expect(parsed.path).toBe(raw.path);
    expect(parsed.headers).toEqual(raw.headers);
    expect(parsed.multiValueHeaders).toEqual(raw.multiValueHeaders);
    expect(parsed.body).toBe(raw.body ?? null);
  },
};

const apiGatewayV1: Source = {
  schema: ApiGatewayV1EventSchema,
  check(parsed, raw) {
    expect(parsed.resource).toBe(raw.resource);
    expect(parsed.path).toBe(raw.path);
    expect(parsed.httpMethod).toBe(raw.httpMethod);
    expect(parsed.headers).toEqual(raw.headers ?? {});
    expect(parsed.multiValueHeaders).toEqual(raw.multiValueHeaders ?? {});
    expect(parsed.queryStringParameters).toEqual(raw.queryStringParameters ?? null);
    expect(parsed.multiValueQueryStringParameters).toEqual(raw.multiValueQueryStringParameters ?? null);
    expect(parsed.pathParameters).toEqual(raw.pathParameters ?? null);
    expect(parsed.body).toBe(raw.body ?? null);
    expect(parsed.isBase64Encoded).toBe(raw.isBase64Encoded ?? false);
    expect(parsed.requestContext.requestId).toBe(raw.requestContext.requestId);
    expect(parsed.requestContext.identity.sourceIp).toBe(raw.requestContext.identity.sourceIp);
    expect(parsed.requestContext.authorizer).toEqual(raw.requestContext.authorizer ?? null);
  },
};

const apiGatewayV2: Source = {
  schema: ApiGatewayV2EventSchema,
  check(parsed, raw) {
    expect(parsed.version).toBe('2.0');
    expect(parsed.rawPath).toBe(raw.rawPath);
    expect(parsed.rawQueryString).toBe(raw.rawQueryString);
    expect(parsed.cookies).toEqual(raw.cookies);
    expect(parsed.headers).toEqual(raw.headers);
    expect(parsed.queryStringParameters).toEqual(raw.queryStringParameters);
    expect(parsed.body).toBe(raw.body);
    expect(parsed.requestContext.http).toEqual(raw.requestContext.http);
    expect(parsed.requestContext.authorizer).toEqual(raw.requestContext.authorizer);
    expect(parsed.requestContext.timeEpoch).toBe(raw.requestContext.timeEpoch);
  },
};

const webSocket: Source = {
  schema: ApiGatewayWebSocketEventSchema,
  check(parsed, raw) {
    const context = raw.requestContext;
    expect(parsed.requestContext).toMatchObject({
      routeKey: context.routeKey,
      eventType: context.eventType,
      connectionId: context.connectionId,
      connectedAt: context.connectedAt,
      domainName: context.domainName,
      stage: context.stage,
    });
    expect(parsed.requestContext.identity.sourceIp).toBe(context.identity.sourceIp);
    expect(parsed.headers).toEqual(raw.headers);
    expect(parsed.body).toBe(raw.body);
  },
};

const functionUrl: Source = {
  schema: FunctionUrlEventSchema,
  check(parsed, raw) {
    apiGatewayV2.check(parsed, raw);
    expect(parsed.requestContext.domainName).toBe(raw.requestContext.domainName);
  },
};

const sqs: Source = {
  schema: SqsEventSchema,
  check(parsed, raw) {
    expect(records(parsed).map((record) => record.messageId)).toEqual(records(raw).map((record) => record.messageId));
    expect(records(parsed).map((record) => record.body)).toEqual(records(raw).map((record) => record.body));
    expect(records(parsed)[0].attributes).toEqual(records(raw)[0].attributes);
    expect(records(parsed)[0].messageAttributes).toEqual(records(raw)[0].messageAttributes);
  },
};

const sns: Source = {
  schema: SnsEventSchema,
  check(parsed, raw) {
    const [parsedSns, rawSns] = [records(parsed)[0].Sns, records(raw)[0].Sns];
    expect(parsedSns.MessageId).toBe(rawSns.MessageId);
    expect(parsedSns.Message).toBe(rawSns.Message);
    expect(parsedSns.TopicArn).toBe(rawSns.TopicArn);
    expect(parsedSns.SigningCertUrl).toBe(rawSns.SigningCertUrl ?? rawSns.SigningCertURL);
    expect(parsedSns.UnsubscribeUrl).toBe(rawSns.UnsubscribeUrl ?? rawSns.UnsubscribeURL);
  },
};

const s3: Source = {
  schema: S3EventSchema,
  check(parsed, raw) {
    expect(records(parsed)[0].s3.bucket).toEqual(records(raw)[0].s3.bucket);
    expect(records(parsed)[0].s3.object.key).toBe(records(raw)[0].s3.object.key);
    expect(records(parsed)[0].s3.object.size).toBe(records(raw)[0].s3.object.size);
    expect(records(parsed)[0].eventName).toBe(records(raw)[0].eventName);
  },
};

const s3ObjectLambda: Source = {
  schema: S3ObjectLambdaEventSchema,
  check(parsed, raw) {
    expect(parsed.xAmzRequestId).toBe(raw.xAmzRequestId);
    expect(parsed.configuration).toEqual(raw.configuration);
    expect(parsed.userRequest).toEqual(raw.userRequest);
    expect(parsed.userIdentity).toEqual(raw.userIdentity);
    for (const key of ['getObjectContext', 'headObjectContext', 'listObjectsContext', 'listObjectsV2Context']) {
      expect(parsed[key]).toEqual(raw[key]);
    }
  },
};

const eventBridge: Source = {
  schema: EventBridgeEventSchema,
  check(parsed, raw) {
    expect(parsed['detail-type']).toBe(raw['detail-type']);
    expect(parsed.source).toBe(raw.source);
    expect(parsed.detail).toEqual(raw.detail);
    expect(parsed.resources).toEqual(raw.resources);
  },
};

const dynamoDbStream: Source = {
  schema: DynamoDbStreamEventSchema,
  check(parsed, raw) {
    expect(records(parsed).map((record) => record.dynamodb)).toEqual(records(raw).map((record) => record.dynamodb));
    expect(records(parsed).map((record) => record.eventName)).toEqual(records(raw).map((record) => record.eventName));
  },
};

const dynamoDbKinesisChange: Source = {
  schema: DynamoDbKinesisChangeRecordSchema,
  check(parsed, raw) {
    expect(parsed.tableName).toBe(raw.tableName);
    expect(parsed.dynamodb).toEqual(raw.dynamodb);
    expect(parsed.userIdentity).toBe(raw.userIdentity);
  },
};

const kinesis: Source = {
  schema: KinesisEventSchema,
  check(parsed, raw) {
    expect(records(parsed).map((record) => record.kinesis)).toEqual(records(raw).map((record) => record.kinesis));
    expect(records(parsed).map((record) => record.eventSourceARN)).toEqual(records(raw).map((record) => record.eventSourceARN));
  },
};

/** Fixture name prefix → source; the longest matching prefix wins. */
const PREFIXES: Record<string, Source> = {
  'sources/example-alb-': alb,
  'sources/example-apigw-': apiGatewayV1,
  'sources/example-apigw-sam-http-': apiGatewayV2,
  'sources/example-apigw-v2-': apiGatewayV2,
  'sources/example-apigw-websocket-': webSocket,
  'sources/example-dynamodb-': dynamoDbStream,
  // One change record as Kinesis Data Streams for DynamoDB writes it (no Records array).
  'sources/example-dynamodb-event-record-': dynamoDbKinesisChange,
  'sources/example-eventbridge-': eventBridge,
  'sources/example-kinesis-': kinesis,
  'sources/example-s3-': s3,
  'sources/example-s3-object-lambda-': s3ObjectLambda,
  'sources/example-sns-': sns,
  'sources/example-sqs-': sqs,
  'http/alb_': alb,
  'http/apigw_': apiGatewayV1,
  'http/apigw_v2_': apiGatewayV2,
  // Named like a REST request, but its content is an HTTP API 2.0 payload.
  'http/apigw_request_path_with_space': apiGatewayV2,
  'http/lambda_function_url_': functionUrl,
};

/** Fixtures that are not Lambda events of these sources, each with the schema its name suggests (which must refuse it). */
const NOT_LAMBDA_EVENTS: Record<string, { reason: string; source: Source }> = {
  'sources/example-kinesis-firehose-event.json': {
    reason: 'a Kinesis Data Firehose transformation event, not a Kinesis Data Streams event',
    source: kinesis,
  },
  'sources/example-sqs-api-event-obj.json': {
    reason: "the SQS ReceiveMessage API's answer, which Lambda never sends",
    source: sqs,
  },
};

function sourceOf(name: string): Source | undefined {
  const prefix = Object.keys(PREFIXES)
    .filter((candidate) => name.startsWith(candidate))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? undefined : PREFIXES[prefix];
}

function issuesOf(schema: z.ZodType, value: unknown) {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected the schema to refuse the value');
  return result.error.issues;
}

describe('event schemas: every fixture', () => {
  it('finds the fixtures, and maps each to a source or says why it is not a Lambda event', () => {
    expect(fixtureNames.length).toBeGreaterThanOrEqual(50);
    const unmapped = fixtureNames.filter((name) => !NOT_LAMBDA_EVENTS[name] && !sourceOf(name));
    expect(unmapped, `add these fixtures to PREFIXES: ${unmapped.join(', ')}`).toEqual([]);
  });

  it.each(fixtureNames.filter((name) => !NOT_LAMBDA_EVENTS[name]))('%s parses, its values come through', (name) => {
    const source = sourceOf(name);
    if (!source) throw new Error(`${name} has no source in PREFIXES`);
    const raw = load(name);
    const result = source.schema.safeParse(raw);
    expect(result.error?.issues ?? []).toEqual([]);
    source.check(result.data, raw);
  });

  it.each(Object.entries(NOT_LAMBDA_EVENTS))('%s is refused: %s', (name, { source }) => {
    expect(fixtureNames).toContain(name);
    expect(source.schema.safeParse(load(name)).success).toBe(false);
  });
});

describe('event schemas: what AWS sends, field by field', () => {
  it('API Gateway v1: multi-value headers and query strings, authorizer, identity', () => {
    const event = ApiGatewayV1EventSchema.parse(load('sources/example-apigw-request-multi-value-parameters.json'));
    expect(event.multiValueHeaders.headerName).toEqual(['headerValue', 'headerValue2']);
    expect(event.multiValueQueryStringParameters).toEqual({ name: ['me', 'me2'] });
    expect(event.requestContext.authorizer).toEqual({ principalId: 'admin', clientId: 1, clientName: 'Exata' });
    expect(event.requestContext.identity).toMatchObject({ apiKeyId: 'theApiKeyId', sourceIp: '192.168.196.186', clientCert: null });
    expect(event.requestContext.requestTimeEpoch).toBe(1589522469693);
    expect(event.body).toBe('{\r\n\t"a": 1\r\n}');
  });

  it("API Gateway v1: the console's test invoke (nulls) comes out as @types/aws-lambda has it", () => {
    const event = ApiGatewayV1EventSchema.parse(load('sources/example-apigw-console-test-request.json'));
    expect(event.headers).toEqual({});
    expect(event.multiValueHeaders).toEqual({});
    expect(event.queryStringParameters).toBeNull();
    expect(event.pathParameters).toBeNull();
    expect(event.requestContext.authorizer).toBeNull();
    expect(event.requestContext.identity.sourceIp).toBe('test-invoke-source-ip');
    expect(event.requestContext.identity.principalOrgId).toBeNull();
    expect(event.requestContext.stage).toBe('test-invoke-stage');
  });

  it('API Gateway v1: fields older events leave out', () => {
    const event = ApiGatewayV1EventSchema.parse(load('sources/example-apigw-console-request.json'));
    expect(event.isBase64Encoded).toBe(false);
    expect(event.multiValueHeaders).toEqual({});
    expect(event.requestContext.protocol).toBeUndefined();
    expect(event.requestContext.identity.accessKey).toBeNull();
    expect(event.stageVariables).toEqual({ baz: 'qux' });
    const sam = ApiGatewayV1EventSchema.parse(load('sources/example-apigw-sam-rest-request.json'));
    expect(sam.requestContext.extendedRequestId).toBeUndefined();
    expect(sam.body).toBeNull();
  });

  it('API Gateway v1: unknown fields pass and are dropped', () => {
    const event = ApiGatewayV1EventSchema.parse(load('sources/example-apigw-request-catch-all.json'));
    expect(event).not.toHaveProperty('otherField');
    expect(event.requestContext.identity).not.toHaveProperty('otherField');
  });

  it('API Gateway v2: JWT, Lambda and IAM authorizers, each with its own schema too', () => {
    const jwt = ApiGatewayV2JwtEventSchema.parse(load('sources/example-apigw-v2-request-jwt-authorizer.json'));
    expect(jwt.requestContext.authorizer.jwt).toEqual({ claims: { claim1: 'value1', claim2: 'value2' }, scopes: ['scope1', 'scope2'] });
    expect(jwt.cookies).toEqual(['cookie1', 'cookie2']);
    expect(jwt.requestContext.authentication?.clientCert.serialNumber).toBe('1');

    const lambda = ApiGatewayV2LambdaEventSchema.parse(load('sources/example-apigw-v2-request-lambda-authorizer.json'));
    expect(lambda.requestContext.authorizer.lambda).toEqual({ key: 'value' });

    const iam = ApiGatewayV2IamEventSchema.parse(load('sources/example-apigw-v2-request-iam.json'));
    expect(iam.requestContext.authorizer.iam).toMatchObject({
      callerId: 'AROA7ZJZYVRE7C3DUXHH6:CognitoIdentityCredentials',
      cognitoIdentity: { amr: ['foo'], identityPoolId: 'us-east-1:4f291106-8703-466b-8f2b-3ecee1ca56ce' },
      principalOrgId: 'AwsOrgId',
    });
    // Each variant refuses a request without its authorizer.
    const none = load('sources/example-apigw-v2-request-no-authorizer.json');
    expect(issuesOf(ApiGatewayV2JwtEventSchema, none)[0]!.path).toEqual(['requestContext', 'authorizer']);
  });

  it('API Gateway v2: what a minimal request and SAM local leave out or send as null', () => {
    const minimal = ApiGatewayV2EventSchema.parse(load('http/apigw_v2_proxy_request_minimal.json'));
    expect(minimal.rawQueryString).toBe('');
    expect(minimal.cookies).toBeUndefined();
    expect(minimal.body).toBeUndefined();
    expect(minimal.requestContext.authorizer).toBeUndefined();
    expect(minimal.requestContext.http.sourceIp).toBe('65.78.31.245');
    const sam = ApiGatewayV2EventSchema.parse(load('http/apigw_v2_sam_local.json'));
    expect(sam.stageVariables).toBeUndefined();
    expect(sam.requestContext.timeEpoch).toBe(1637063673);
  });

  it('WebSocket: $connect, $disconnect and a message-shaped event', () => {
    const connect = ApiGatewayWebSocketEventSchema.parse(load('sources/example-apigw-websocket-request-without-method.json'));
    expect(connect.requestContext).toMatchObject({ eventType: 'CONNECT', routeKey: '$connect', connectionId: 'asdfasdf=' });
    expect(connect.requestContext.messageId).toBeUndefined();
    expect(connect.requestContext.identity.apiKeyId).toBe('asdf');
    const disconnect = ApiGatewayWebSocketEventSchema.parse(load('sources/example-apigw-websocket-request-disconnect-route.json'));
    expect(disconnect.requestContext).toMatchObject({
      eventType: 'DISCONNECT',
      disconnectStatusCode: 1005,
      disconnectReason: 'Client-side close frame status not set',
    });
    const other = ApiGatewayWebSocketEventSchema.parse(load('sources/example-apigw-websocket-request.json'));
    expect(other.requestContext.messageId).toBeNull();
    expect(other.isBase64Encoded).toBe(false);
    expect(other.body).toBe('{\r\n\t"a": 1\r\n}');
  });

  it('ALB: single- or multi-value, URL-encoded query strings, no body', () => {
    const multi = AlbEventSchema.parse(load('http/alb_multi_value_request_encoded_query_parameters.json'));
    expect(multi.multiValueQueryStringParameters).toEqual({ myKey: ['%3FshowAll%3Dtrue', '%3FshowAll%3Dfalse'] });
    expect(multi.multiValueHeaders?.cookie).toEqual(['name1=value1', 'name2=value2']);
    const headersOnly = AlbEventSchema.parse(load('sources/example-alb-lambda-target-request-headers-only.json'));
    expect(headersOnly.body).toBeNull();
    expect(headersOnly.queryStringParameters).toEqual({ key: 'hello' });
    expect(headersOnly.multiValueHeaders).toBeUndefined();
    const health = AlbEventSchema.parse(load('http/alb_health_check.json'));
    expect(health.headers).toEqual({ 'user-agent': 'ELB-HealthChecker/2.0' });
  });

  it('function URL: the 2.0 payload of a lambda-url domain', () => {
    const event = FunctionUrlEventSchema.parse(load('http/lambda_function_url_request.json'));
    expect(event.requestContext.domainName).toBe('id.lambda-url.eu-west-2.on.aws');
    expect(event.cookies).toEqual(['test=hi']);
    expect(event.requestContext.authorizer).toBeUndefined();
    expect(event.headers['x-amzn-tls-version']).toBe('TLSv1.2');
  });

  it('SQS: attributes, message attributes, and a JSON body through jsonString', () => {
    const event = SqsEventSchema.parse(load('sources/example-sqs-event.json'));
    const record = event.Records[0]!;
    expect(record).toMatchObject({ messageId: 'MessageID_1', body: 'Message Body', eventSource: 'aws:sqs', awsRegion: 'us-west-2' });
    expect(record.attributes.ApproximateReceiveCount).toBe('2');
    expect(record.messageAttributes.Attribute3).toEqual({
      binaryValue: 'MTEwMA==',
      stringListValues: ['abc', '123'],
      binaryListValues: ['MA==', 'MQ==', 'MA=='],
      dataType: 'Binary',
    });
    const typed = sqsEventWithBody(jsonString(z.object({ a: z.string(), b: z.number() }))).parse(
      load('sources/example-sqs-event-obj.json'),
    );
    expect(typed.Records[0]!.body).toEqual({ a: 'Test', b: 123 });
  });

  it('SQS: null md5OfMessageAttributes (a message without attributes) comes out undefined', () => {
    const raw = load('sources/example-sqs-event.json');
    raw.Records[0].md5OfMessageAttributes = null;
    expect(SqsEventSchema.parse(raw).Records[0]!.md5OfMessageAttributes).toBeUndefined();
  });

  it('SNS: both spellings of the URLs, a null subject, a JSON message', () => {
    const upper = SnsEventSchema.parse(load('sources/example-sns-event.json')).Records[0]!.Sns;
    const pascal = SnsEventSchema.parse(load('sources/example-sns-event-pascal-case.json')).Records[0]!.Sns;
    expect(upper).toEqual(pascal);
    expect(upper.SigningCertUrl).toBe('https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem');
    expect(upper).not.toHaveProperty('SigningCertURL');
    expect(upper.Message).toBe('Hello\r\nworld!');
    expect(upper.MessageAttributes).toEqual({});

    const raw = load('sources/example-sns-event-obj.json');
    raw.Records[0].Sns.Subject = null;
    const typed = snsEventWithMessage(jsonString(z.object({ foo: z.string(), bar: z.number() }))).parse(raw);
    expect(typed.Records[0]!.Sns.Message).toEqual({ foo: 'Hello world!', bar: 123 });
    expect(typed.Records[0]!.Sns.Subject).toBeUndefined();
  });

  it('S3: notification record, decoded key; S3 Object Lambda contexts', () => {
    const record = S3EventSchema.parse(load('sources/example-s3-event.json')).Records[0]!;
    expect(record.s3.bucket.name).toBe('sourcebucket');
    expect(record.s3.object).toEqual({
      key: 'Happy%20Face.jpg',
      size: 1024,
      versionId: 'version',
      eTag: 'd41d8cd98f00b204e9800998ecf8427e',
      sequencer: 'Happy Sequencer',
    });
    expect(decodeS3Key(record.s3.object.key)).toBe('Happy Face.jpg');
    expect(decodeS3Key('a+b%2Bc')).toBe('a b+c');

    const get = S3ObjectLambdaEventSchema.parse(load('sources/example-s3-object-lambda-event-get-object-assumed-role.json'));
    expect(get.getObjectContext?.outputRoute).toBe('io-use1-001');
    expect(get.userIdentity.sessionContext?.sessionIssuer?.userName).toBe('Admin');
    const list = S3ObjectLambdaEventSchema.parse(load('sources/example-s3-object-lambda-event-list-objects-v2-iam.json'));
    expect(list.listObjectsV2Context?.inputS3Url).toMatch(/^https:\/\/my-s3-ap-111122223333/);
    expect(list.protocolVersion).toBe('1.01');
  });

  it('S3: a delete notification has neither size nor eTag', () => {
    const raw = load('sources/example-s3-event.json');
    raw.Records[0].eventName = 'ObjectRemoved:Delete';
    delete raw.Records[0].s3.object.size;
    delete raw.Records[0].s3.object.eTag;
    expect(S3EventSchema.parse(raw).Records[0]!.s3.object).toEqual({
      key: 'Happy%20Face.jpg',
      versionId: 'version',
      sequencer: 'Happy Sequencer',
    });
  });

  it('EventBridge: generic, scheduled, and with a detail schema', () => {
    const schedule = EventBridgeEventSchema.parse(load('sources/example-eventbridge-schedule.json'));
    expect(schedule).toMatchObject({ 'detail-type': 'Scheduled Event', source: 'aws.events', version: '0', detail: {} });
    const ec2 = eventBridgeEventWithDetail(z.object({ 'instance-id': z.string(), state: z.enum(['pending', 'running']) })).parse(
      load('sources/example-eventbridge-event-obj.json'),
    );
    expect(ec2.detail.state).toBe('pending');
    expect(ec2.version).toBe('0'); // the fixture leaves it out
    expect(ec2.resources).toEqual(['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111']);
  });

  it('DynamoDB Streams: every attribute type, sequence numbers', () => {
    const event = DynamoDbStreamEventSchema.parse(load('sources/example-dynamodb-event.json'));
    expect(event.Records.map((record) => record.dynamodb.SequenceNumber)).toEqual([
      '1405400000000002063282832',
      '1405400000000002063282832',
    ]);
    expect(event.Records[0]!.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    const image = event.Records[1]!.dynamodb.NewImage!;
    expect(image.Map).toEqual({ M: { Name: { S: 'Joe' }, Age: { N: '35' } } });
    expect(image.List).toEqual({ L: [{ S: 'Cookies' }, { S: 'Coffee' }, { N: '3.14159' }] });
    expect(image.Null).toEqual({ NULL: true });
    expect(image.EmptyStringSet).toEqual({ SS: [] });
    const change = DynamoDbKinesisChangeRecordSchema.parse(load('sources/example-dynamodb-event-record-with-optional-fields.json'));
    expect(change).toMatchObject({ tableName: 'examples', recordFormat: 'application/json', userIdentity: null });
  });

  it('Kinesis: sequence numbers, encryption type, data decoded on request', () => {
    const event = KinesisEventSchema.parse(load('sources/example-kinesis-event-encrypted.json'));
    expect(event.Records.map((record) => record.kinesis.sequenceNumber)).toEqual([
      '49568167373333333333333333333333333333333333333333333333',
      '49568167373333333334444444444444444444444444444444444444',
    ]);
    expect(event.Records[0]!.kinesis.encryptionType).toBe('KMS');
    expect(event.Records[1]!.kinesis.encryptionType).toBeUndefined();
    expect(event.Records[0]!.kinesis.data).toBe('SGVsbG8gV29ybGQ=');
    expect(decodeKinesisData(event.Records[0]!.kinesis.data)).toBe('Hello World');
  });
});

/** A broken copy of one fixture per source, and the path the first issue must name. */
const BROKEN: Array<[string, z.ZodType, string, (event: any) => void, PropertyKey[]]> = [
  [
    'API Gateway v1',
    ApiGatewayV1EventSchema,
    'sources/example-apigw-request.json',
    (e) => delete e.requestContext.identity.sourceIp,
    ['requestContext', 'identity', 'sourceIp'],
  ],
  [
    'API Gateway v2',
    ApiGatewayV2EventSchema,
    'http/apigw_v2_proxy_request.json',
    (e) => (e.requestContext.http.method = 7),
    ['requestContext', 'http', 'method'],
  ],
  [
    'WebSocket',
    ApiGatewayWebSocketEventSchema,
    'sources/example-apigw-websocket-request.json',
    (e) => (e.requestContext.eventType = 'OPEN'),
    ['requestContext', 'eventType'],
  ],
  [
    'ALB',
    AlbEventSchema,
    'http/alb_request.json',
    (e) => delete e.requestContext.elb.targetGroupArn,
    ['requestContext', 'elb', 'targetGroupArn'],
  ],
  ['function URL', FunctionUrlEventSchema, 'http/lambda_function_url_request.json', (e) => delete e.rawPath, ['rawPath']],
  ['SQS', SqsEventSchema, 'sources/example-sqs-event.json', (e) => (e.Records[0].body = 42), ['Records', 0, 'body']],
  [
    'SNS',
    SnsEventSchema,
    'sources/example-sns-event.json',
    (e) => delete e.Records[0].Sns.SigningCertURL,
    ['Records', 0, 'Sns', 'SigningCertUrl'],
  ],
  [
    'S3',
    S3EventSchema,
    'sources/example-s3-event.json',
    (e) => (e.Records[0].s3.object.size = '1024'),
    ['Records', 0, 's3', 'object', 'size'],
  ],
  [
    'S3 Object Lambda',
    S3ObjectLambdaEventSchema,
    'sources/example-s3-object-lambda-event-get-object-iam.json',
    (e) => delete e.configuration.accessPointArn,
    ['configuration', 'accessPointArn'],
  ],
  ['EventBridge', EventBridgeEventSchema, 'sources/example-eventbridge-schedule.json', (e) => delete e['detail-type'], ['detail-type']],
  [
    'DynamoDB Streams',
    DynamoDbStreamEventSchema,
    'sources/example-dynamodb-event.json',
    (e) => delete e.Records[1].dynamodb.SequenceNumber,
    ['Records', 1, 'dynamodb', 'SequenceNumber'],
  ],
  [
    'Kinesis',
    KinesisEventSchema,
    'sources/example-kinesis-event.json',
    (e) => (e.Records[1].kinesis.data = null),
    ['Records', 1, 'kinesis', 'data'],
  ],
];

describe('event schemas: broken events are refused, naming the field', () => {
  it.each(BROKEN)('%s', (_source, schema, name, breakIt, path) => {
    const event = load(name);
    breakIt(event);
    const issues = issuesOf(schema, event);
    expect(issues.map((issue) => issue.path)).toEqual([path]);
  });

  it('an event of another source is refused by eventSource', () => {
    const issues = issuesOf(SqsEventSchema, load('sources/example-kinesis-event.json'));
    expect(issues.some((issue) => issue.path.join('.') === 'Records.0.eventSource')).toBe(true);
  });

  it('jsonString: text that is not JSON, and JSON of the wrong shape, name the body', () => {
    const schema = sqsEventWithBody(jsonString(z.object({ a: z.string() })));
    const raw = load('sources/example-sqs-event.json');
    const notJson = issuesOf(schema, raw);
    expect(notJson[0]).toMatchObject({ path: ['Records', 0, 'body'], message: expect.stringMatching(/^Invalid JSON: /) });
    raw.Records[0].body = '{"a":1}';
    expect(issuesOf(schema, raw)[0]!.path).toEqual(['Records', 0, 'body', 'a']);
  });
});
