/**
 * API Gateway WebSocket API events ($connect, $disconnect, messages).
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-route-keys-connect-disconnect.html
 *
 * $connect carries headers (and the query string); messages carry the body;
 * only MESSAGE events have a messageId.
 */
import * as z from 'zod';

function orUndefined<Schema extends z.ZodType>(schema: Schema) {
  return schema.nullish().transform((value) => value ?? undefined);
}

export const ApiGatewayWebSocketRequestContextSchema = z.object({
  apiId: z.string(),
  connectedAt: z.number(),
  connectionId: z.string(),
  domainName: z.string(),
  eventType: z.enum(['CONNECT', 'MESSAGE', 'DISCONNECT']),
  extendedRequestId: z.string(),
  identity: z.object({
    sourceIp: z.string(),
    userAgent: z.string().nullish(),
    apiKey: z.string().nullish(),
    apiKeyId: z.string().nullish(),
  }),
  // MESSAGE events only (@types/aws-lambda has it required).
  messageId: z.string().nullish(),
  messageDirection: z.literal('IN'),
  requestId: z.string(),
  requestTime: z.string(),
  requestTimeEpoch: z.number(),
  routeKey: z.string(),
  stage: z.string(),
  // A Lambda authorizer's context, on $connect.
  authorizer: z.record(z.string(), z.unknown()).nullish(),
  // $disconnect only.
  disconnectStatusCode: z.number().optional(),
  disconnectReason: z.string().optional(),
});

export const ApiGatewayWebSocketEventSchema = z.object({
  requestContext: ApiGatewayWebSocketRequestContextSchema,
  headers: orUndefined(z.record(z.string(), z.string())),
  multiValueHeaders: orUndefined(z.record(z.string(), z.array(z.string()))),
  queryStringParameters: orUndefined(z.record(z.string(), z.string())),
  multiValueQueryStringParameters: orUndefined(z.record(z.string(), z.array(z.string()))),
  stageVariables: orUndefined(z.record(z.string(), z.string())),
  body: orUndefined(z.string()),
  // Absent from some captured events; absent means the body is text.
  isBase64Encoded: z.boolean().default(false),
});

export type ApiGatewayWebSocketEvent = z.infer<typeof ApiGatewayWebSocketEventSchema>;
