/**
 * API Gateway HTTP API events, payload format 2.0.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 *
 * AWS leaves out what a request does not have (cookies, query string, path
 * parameters, body, authorizer); SAM local sends some of them as null. Both are
 * accepted and come out absent (undefined), as @types/aws-lambda has them.
 */
import * as z from 'zod';

function orUndefined<Schema extends z.ZodType>(schema: Schema) {
  return schema.nullish().transform((value) => value ?? undefined);
}

const StringMap = z.record(z.string(), z.string());

const ClientCertSchema = z.object({
  clientCertPem: z.string(),
  subjectDN: z.string(),
  issuerDN: z.string(),
  serialNumber: z.string(),
  validity: z.object({ notBefore: z.string(), notAfter: z.string() }),
});

export const ApiGatewayV2JwtSchema = z.object({
  claims: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.string())])),
  scopes: z
    .array(z.string())
    .nullish()
    .transform((value) => value ?? null),
});

export const ApiGatewayV2IamSchema = z.object({
  accessKey: z.string(),
  accountId: z.string(),
  callerId: z.string(),
  // An object when the caller signed with Cognito identity pool credentials, null otherwise
  // (@types/aws-lambda: always null).
  cognitoIdentity: z.object({ amr: z.array(z.string()), identityId: z.string(), identityPoolId: z.string() }).nullable(),
  // null outside AWS Organizations (@types/aws-lambda: string).
  principalOrgId: z.string().nullable(),
  userArn: z.string(),
  userId: z.string(),
});

/** requestContext.authorizer: one of jwt, lambda (your authorizer's context) or iam. */
export const ApiGatewayV2AuthorizerSchema = z.object({
  jwt: ApiGatewayV2JwtSchema.optional(),
  lambda: z.record(z.string(), z.unknown()).optional(),
  iam: ApiGatewayV2IamSchema.optional(),
  principalId: z.string().nullish(),
  integrationLatency: z.number().nullish(),
});

export const ApiGatewayV2RequestContextSchema = z.object({
  accountId: z.string(),
  apiId: z.string(),
  authorizer: ApiGatewayV2AuthorizerSchema.optional(),
  // Mutual TLS only.
  authentication: orUndefined(z.object({ clientCert: ClientCertSchema })),
  domainName: z.string(),
  domainPrefix: z.string(),
  http: z.object({
    method: z.string(),
    path: z.string(),
    protocol: z.string(),
    sourceIp: z.string(),
    userAgent: z.string(),
  }),
  requestId: z.string(),
  routeKey: z.string(),
  stage: z.string(),
  time: z.string(),
  timeEpoch: z.number(),
});

export const ApiGatewayV2EventSchema = z.object({
  version: z.string(),
  routeKey: z.string(),
  rawPath: z.string(),
  rawQueryString: z.string(),
  cookies: orUndefined(z.array(z.string())),
  headers: StringMap,
  queryStringParameters: orUndefined(StringMap),
  pathParameters: orUndefined(StringMap),
  stageVariables: orUndefined(StringMap),
  requestContext: ApiGatewayV2RequestContextSchema,
  body: orUndefined(z.string()),
  isBase64Encoded: z.boolean(),
});

function withAuthorizer<Authorizer extends z.ZodType>(authorizer: Authorizer) {
  return ApiGatewayV2EventSchema.extend({
    requestContext: ApiGatewayV2RequestContextSchema.extend({ authorizer }),
  });
}

/** Routes behind a JWT authorizer: requestContext.authorizer.jwt is always there. */
export const ApiGatewayV2JwtEventSchema = withAuthorizer(
  ApiGatewayV2AuthorizerSchema.pick({ principalId: true, integrationLatency: true }).extend({ jwt: ApiGatewayV2JwtSchema }),
);
/** Routes behind a Lambda authorizer: requestContext.authorizer.lambda is its context. */
export const ApiGatewayV2LambdaEventSchema = withAuthorizer(z.object({ lambda: z.record(z.string(), z.unknown()) }));
/** Routes with IAM authorization: requestContext.authorizer.iam is the caller. */
export const ApiGatewayV2IamEventSchema = withAuthorizer(z.object({ iam: ApiGatewayV2IamSchema }));

export type ApiGatewayV2Event = z.infer<typeof ApiGatewayV2EventSchema>;
export type ApiGatewayV2JwtEvent = z.infer<typeof ApiGatewayV2JwtEventSchema>;
export type ApiGatewayV2LambdaEvent = z.infer<typeof ApiGatewayV2LambdaEventSchema>;
export type ApiGatewayV2IamEvent = z.infer<typeof ApiGatewayV2IamEventSchema>;
