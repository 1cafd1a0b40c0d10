import { MissingEnvironmentError } from '../errors.ts';
import type { Invocation } from '../client/runtime-api-client.ts';

/** What the function's environment says about it; read once at start-up. */
export interface FunctionConfig {
  runtimeApi: string;
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  maxConcurrency: number;
}

/** Variables Lambda sets for every function; missing ones mean we are not where we think. */
const REQUIRED = [
  'AWS_LAMBDA_RUNTIME_API',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
] as const;

export function readFunctionConfig(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  for (const name of REQUIRED) {
    if (!env[name]) throw new MissingEnvironmentError(name);
  }
  const concurrency = Number(env.AWS_LAMBDA_MAX_CONCURRENCY ?? '1');
  return {
    runtimeApi: env.AWS_LAMBDA_RUNTIME_API!,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME!,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION!,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE!,
    // Lambda Managed Instances and SnapStart environments may log elsewhere; these are informational.
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
    maxConcurrency: Number.isInteger(concurrency) && concurrency > 0 ? concurrency : 1,
  };
}

export interface CognitoIdentity {
  cognitoIdentityId: string;
  cognitoIdentityPoolId: string;
}

export interface ClientContext {
  client?: Record<string, unknown>;
  Custom?: Record<string, unknown>;
  env?: Record<string, unknown>;
  [key: string]: unknown;
}

/** The context object handed to handlers, shaped like AWS's Node runtime's (and @types/aws-lambda's). */
export interface Context {
  readonly awsRequestId: string;
  readonly invokedFunctionArn: string;
  readonly functionName: string;
  readonly functionVersion: string;
  readonly memoryLimitInMB: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  readonly identity: CognitoIdentity | undefined;
  readonly clientContext: ClientContext | undefined;
  readonly tenantId: string | undefined;
  /** The X-Ray trace header of this invocation (also in process.env._X_AMZN_TRACE_ID). */
  readonly xRayTraceId: string | undefined;
  /** Kept for handlers written for the managed runtime; it has no effect on promise handlers. */
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

export function createContext(config: FunctionConfig, invocation: Invocation): Context {
  const deadline = invocation.deadlineMs;
  return {
    awsRequestId: invocation.requestId,
    invokedFunctionArn: invocation.invokedFunctionArn,
    functionName: config.functionName,
    functionVersion: config.functionVersion,
    memoryLimitInMB: config.memoryLimitInMB,
    logGroupName: config.logGroupName,
    logStreamName: config.logStreamName,
    identity: parseJsonHeader<CognitoIdentity>(invocation.cognitoIdentity),
    clientContext: parseJsonHeader<ClientContext>(invocation.clientContext),
    tenantId: invocation.tenantId,
    xRayTraceId: invocation.traceId,
    callbackWaitsForEmptyEventLoop: true,
    // A method, not an arrow: the bundle keeps function names, and a named arrow would cost a defineProperty per invoke.
    // It reads no `this`, so `const { getRemainingTimeInMillis } = context` works, as with AWS's runtime.
    getRemainingTimeInMillis() {
      return Number.isFinite(deadline) ? Math.max(0, deadline - Date.now()) : 0;
    },
  };
}

/** Client context and Cognito identity arrive as JSON in headers; a malformed one is left out, not fatal. */
function parseJsonHeader<T>(value: string | undefined): T | undefined {
  if (!value) return undefined;
  try {
    return JSON.parse(value) as T;
  } catch {
    return undefined;
  }
}
