/**
 * API Gateway REST API (v1) Lambda proxy integration events.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
 *
 * Where AWS sends null for one request and leaves the field out for another
 * (the console's test invoke, SAM local, older APIs), both are accepted and the
 * output has the form @types/aws-lambda gives: no headers is {}, no query
 * string, path parameters, stage variables, body or authorizer is null.
 */
import * as z from 'zod';

function orNull<Schema extends z.ZodType>(schema: Schema) {
  return schema.nullish().transform((value) => value ?? null);
}

const StringMap = z.record(z.string(), z.string());
const StringListMap = z.record(z.string(), z.array(z.string()));

export const ApiGatewayClientCertSchema = z.object({
  clientCertPem: z.string(),
  subjectDN: z.string(),
  issuerDN: z.string(),
  serialNumber: z.string(),
  validity: z.object({ notBefore: z.string(), notAfter: z.string() }),
});

export const ApiGatewayV1IdentitySchema = z.object({
  accessKey: orNull(z.string()),
  accountId: orNull(z.string()),
  apiKey: orNull(z.string()),
  apiKeyId: orNull(z.string()),
  caller: orNull(z.string()),
  // Mutual TLS only.
  clientCert: orNull(ApiGatewayClientCertSchema),
  cognitoAuthenticationProvider: orNull(z.string()),
  cognitoAuthenticationType: orNull(z.string()),
  cognitoIdentityId: orNull(z.string()),
  cognitoIdentityPoolId: orNull(z.string()),
  principalOrgId: orNull(z.string()),
  // Not always an IP address: the console's test invoke sends "test-invoke-source-ip".
  sourceIp: z.string(),
  user: orNull(z.string()),
  userAgent: orNull(z.string()),
  userArn: orNull(z.string()),
  // Private APIs only.
  vpcId: z.string().optional(),
  vpceId: z.string().optional(),
});

export const ApiGatewayV1RequestContextSchema = z.object({
  accountId: z.string(),
  apiId: z.string(),
  // Cognito user pool authorizers put claims (and scopes) here; Lambda authorizers principalId,
  // integrationLatency and their context's keys.
  authorizer: orNull(z.record(z.string(), z.unknown())),
  domainName: z.string().optional(),
  domainPrefix: z.string().optional(),
  extendedRequestId: z
    .string()
    .nullish()
    .transform((value) => value ?? undefined),
  httpMethod: z.string(),
  identity: ApiGatewayV1IdentitySchema,
  operationName: z.string().optional(),
  // Left out by older APIs and the Lambda console's test event; @types/aws-lambda has path,
  // protocol and requestTimeEpoch required.
  path: z.string().optional(),
  protocol: z.string().optional(),
  requestId: z.string(),
  requestTime: z.string().optional(),
  requestTimeEpoch: z.number().optional(),
  resourceId: z.string(),
  resourcePath: z.string(),
  stage: z.string(),
  // WebSocket APIs fill these in; for REST they are absent.
  connectedAt: z.number().optional(),
  connectionId: z.string().optional(),
  eventType: z.string().optional(),
  messageDirection: z.string().optional(),
  messageId: z.string().nullish(),
  routeKey: z.string().optional(),
});

export const ApiGatewayV1EventSchema = z.object({
  resource: z.string(),
  path: z.string(),
  httpMethod: z.string(),
  headers: StringMap.nullish().transform((value) => value ?? {}),
  multiValueHeaders: StringListMap.nullish().transform((value) => value ?? {}),
  queryStringParameters: orNull(StringMap),
  multiValueQueryStringParameters: orNull(StringListMap),
  pathParameters: orNull(StringMap),
  stageVariables: orNull(StringMap),
  requestContext: ApiGatewayV1RequestContextSchema,
  body: orNull(z.string()),
  // Absent from older events; absent means the body is text.
  isBase64Encoded: z.boolean().default(false),
});

export type ApiGatewayV1Event = z.infer<typeof ApiGatewayV1EventSchema>;
