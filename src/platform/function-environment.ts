import { randomBytes } from 'node:crypto';

/** What Lambda's reserved environment variables of one execution environment are made from. */
export interface FunctionEnvironmentSettings {
  name: string;
  version: string;
  memoryMb: number;
  region: string;
  /** host:port of the Runtime API. */
  runtimeApi: string;
  /** _HANDLER, when the function has one. */
  handler?: string;
  /** AWS_LAMBDA_MAX_CONCURRENCY, set when above 1 (Lambda Managed Instances). */
  concurrency?: number;
}

/**
 * The reserved environment variables Lambda sets for a function's runtime.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
export function lambdaEnvironment(settings: FunctionEnvironmentSettings, now = new Date()): Record<string, string> {
  const date = now.toISOString().slice(0, 10).replaceAll('-', '/');
  const stream = randomBytes(16).toString('hex');
  const variables: Record<string, string> = {
    AWS_LAMBDA_RUNTIME_API: settings.runtimeApi,
    AWS_LAMBDA_FUNCTION_NAME: settings.name,
    AWS_LAMBDA_FUNCTION_VERSION: settings.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(settings.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${settings.name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${date}/[${settings.version}]${stream}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_REGION: settings.region,
    AWS_DEFAULT_REGION: settings.region,
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
  };
  if (settings.handler) variables._HANDLER = settings.handler;
  if (settings.concurrency !== undefined && settings.concurrency > 1) {
    variables.AWS_LAMBDA_MAX_CONCURRENCY = String(settings.concurrency);
  }
  return variables;
}
