// Type-level tests: `tsc` (part of `npm test` and `npm run typecheck`) checks them; at run time
// expectTypeOf does nothing. They share the program with runtime/ on purpose: lambda-kit declares
// no `awslambda` global of its own, so @types/aws-lambda's does not clash with it.
// The schemas' output types must be assignable to @types/aws-lambda's
// event types, so parsed events go wherever an @types-typed event goes. Where AWS sends less than
// @types/aws-lambda requires, the schema follows AWS, and the test states the gap, key by key,
// with `Gap` below and a `not.toExtend` that fails once @types or the schema changes.
import type {
  ALBEvent,
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyEventV2WithLambdaAuthorizer,
  APIGatewayProxyWebsocketEventV2,
  Context as AwsContext,
  DynamoDBBatchResponse,
  DynamoDBStreamEvent,
  EventBridgeEvent,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  LambdaFunctionURLEvent,
  S3Event,
  S3EventRecord,
  SNSEvent,
  SQSBatchResponse,
  SQSEvent,
} from 'aws-lambda';
import { describe, expectTypeOf, it } from 'vitest';
import * as z from 'zod';
import { parse, processBatch } from '../../../runtime/events/index.ts';
import type { AlbEvent } from '../../../runtime/events/schemas/alb.ts';
import type { ApiGatewayV1Event } from '../../../runtime/events/schemas/api-gateway-v1.ts';
import type {
  ApiGatewayV2Event,
  ApiGatewayV2IamEvent,
  ApiGatewayV2JwtEvent,
  ApiGatewayV2LambdaEvent,
} from '../../../runtime/events/schemas/api-gateway-v2.ts';
import type { ApiGatewayWebSocketEvent } from '../../../runtime/events/schemas/api-gateway-websocket.ts';
import type { DynamoDbStreamEvent } from '../../../runtime/events/schemas/dynamodb-stream.ts';
import { eventBridgeEventWithDetail, type EventBridgeEvent as KitEventBridgeEvent } from '../../../runtime/events/schemas/eventbridge.ts';
import type { FunctionUrlEvent } from '../../../runtime/events/schemas/function-url.ts';
import { jsonString } from '../../../runtime/events/schemas/json-string.ts';
import type { KinesisEvent } from '../../../runtime/events/schemas/kinesis.ts';
import type { S3Event as KitS3Event } from '../../../runtime/events/schemas/s3.ts';
import type { SnsEvent } from '../../../runtime/events/schemas/sns.ts';
import { SqsEventSchema, sqsEventWithBody, type SqsEvent } from '../../../runtime/events/schemas/sqs.ts';
import type { Context } from '../../../runtime/loop/context.ts';

/** T with the keys K optional and also of type Extra: fields AWS can leave out (or null) that @types/aws-lambda requires. */
type Gap<T, K extends keyof T, Extra = undefined> = Omit<T, K> & { [P in K]?: T[P] | Extra };

describe('event types are assignable to @types/aws-lambda', () => {
  it('SQS, SNS, Kinesis, DynamoDB Streams, EventBridge, ALB: as they are', () => {
    expectTypeOf<SqsEvent>().toExtend<SQSEvent>();
    expectTypeOf<SnsEvent>().toExtend<SNSEvent>();
    expectTypeOf<KinesisEvent>().toExtend<KinesisStreamEvent>();
    expectTypeOf<DynamoDbStreamEvent>().toExtend<DynamoDBStreamEvent>();
    expectTypeOf<KitEventBridgeEvent>().toExtend<EventBridgeEvent<string, unknown>>();
    expectTypeOf<AlbEvent>().toExtend<ALBEvent>();
  });

  it('API Gateway v2 (and each authorizer) and function URLs: as they are', () => {
    expectTypeOf<ApiGatewayV2Event>().toExtend<APIGatewayProxyEventV2>();
    expectTypeOf<ApiGatewayV2JwtEvent>().toExtend<APIGatewayProxyEventV2WithJWTAuthorizer>();
    expectTypeOf<ApiGatewayV2LambdaEvent>().toExtend<APIGatewayProxyEventV2WithLambdaAuthorizer<Record<string, unknown>>>();
    expectTypeOf<FunctionUrlEvent>().toExtend<LambdaFunctionURLEvent>();
  });

  it('API Gateway v1: requestContext.path, protocol and requestTimeEpoch may be absent', () => {
    // Older REST APIs and the Lambda console's test event send none of the three.
    type Expected = Omit<APIGatewayProxyEvent, 'requestContext'> & {
      requestContext: Gap<APIGatewayProxyEvent['requestContext'], 'path' | 'protocol' | 'requestTimeEpoch'>;
    };
    expectTypeOf<ApiGatewayV1Event>().toExtend<Expected>();
    expectTypeOf<ApiGatewayV1Event>().not.toExtend<APIGatewayProxyEvent>();
  });

  it('WebSocket: requestContext.messageId is absent on $connect and $disconnect', () => {
    type Expected = Omit<APIGatewayProxyWebsocketEventV2, 'requestContext'> & {
      requestContext: Gap<APIGatewayEventWebsocketRequestContextV2, 'messageId', null>;
    };
    expectTypeOf<ApiGatewayWebSocketEvent>().toExtend<Expected>();
    expectTypeOf<ApiGatewayWebSocketEvent>().not.toExtend<APIGatewayProxyWebsocketEventV2>();
  });

  it('API Gateway v2 IAM: cognitoIdentity is an object for Cognito credentials, principalOrgId null outside Organizations', () => {
    type Context = APIGatewayProxyEventV2WithIAMAuthorizer['requestContext'];
    type Iam = Context['authorizer']['iam'];
    type Expected = Omit<APIGatewayProxyEventV2WithIAMAuthorizer, 'requestContext'> & {
      requestContext: Omit<Context, 'authorizer'> & {
        authorizer: {
          iam: Omit<Iam, 'cognitoIdentity' | 'principalOrgId'> & {
            cognitoIdentity: { amr: string[]; identityId: string; identityPoolId: string } | null;
            principalOrgId: string | null;
          };
        };
      };
    };
    expectTypeOf<ApiGatewayV2IamEvent>().toExtend<Expected>();
    expectTypeOf<ApiGatewayV2IamEvent>().not.toExtend<APIGatewayProxyEventV2WithIAMAuthorizer>();
  });

  it('S3: s3.object.size and eTag are absent from ObjectRemoved events', () => {
    type Expected = {
      Records: Array<
        Omit<S3EventRecord, 's3'> & {
          s3: Omit<S3EventRecord['s3'], 'object'> & { object: Gap<S3EventRecord['s3']['object'], 'size' | 'eTag'> };
        }
      >;
    };
    expectTypeOf<KitS3Event>().toExtend<Expected>();
    expectTypeOf<KitS3Event>().not.toExtend<S3Event>();
  });
});

describe('parse() and processBatch() types', () => {
  it("gives the handler the schema's output, transformations applied", () => {
    const handler = parse(SqsEventSchema, async (event, context) => {
      expectTypeOf(event).toEqualTypeOf<SqsEvent>();
      expectTypeOf(context).toEqualTypeOf<Context>();
      return event.Records.length;
    });
    expectTypeOf(handler).returns.toEqualTypeOf<Promise<number>>();

    const Order = z.object({ orderId: z.string(), quantity: z.number() });
    parse(sqsEventWithBody(jsonString(Order)), (event) => {
      expectTypeOf(event.Records[0]!.body).toEqualTypeOf<{ orderId: string; quantity: number }>();
    });
    parse(eventBridgeEventWithDetail(Order), (event) => {
      expectTypeOf(event.detail.quantity).toBeNumber();
    });
  });

  it('takes a handler typed with @types/aws-lambda', () => {
    const typedForAws = (event: SQSEvent, context: AwsContext) => `${event.Records.length} ${context.awsRequestId}`;
    expectTypeOf(parse(SqsEventSchema, typedForAws)).returns.toEqualTypeOf<Promise<string>>();
  });

  it('answers partial batch responses of the @types/aws-lambda shape, for @types events too', () => {
    type Answer = Awaited<ReturnType<typeof processBatch>>;
    expectTypeOf<Answer>().toExtend<SQSBatchResponse>();
    expectTypeOf<Answer>().toExtend<KinesisStreamBatchResponse>();
    expectTypeOf<Answer>().toExtend<DynamoDBBatchResponse>();
    expectTypeOf(processBatch<SQSEvent['Records'][number]>).toBeCallableWith({} as SQSEvent, async () => {});
    expectTypeOf(processBatch).toBeCallableWith({} as KinesisStreamEvent, () => {});
    expectTypeOf(processBatch).toBeCallableWith({} as DynamoDBStreamEvent, () => {});
    expectTypeOf(processBatch).toBeCallableWith({} as SqsEvent, async () => {}, { concurrency: 4 });
  });
});
