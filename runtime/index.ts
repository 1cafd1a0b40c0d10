/**
 * lambda-kit/runtime: the runtime loop and Runtime API client that ship inside
 * every function. Imports only node:* built-ins and its own files.
 */
import { installAwsLambdaGlobal } from './loop/response-stream.ts';

// Before any user module is evaluated: handlers written for AWS use this global at import time.
installAwsLambdaGlobal();

export { run, runModule, runFromEnvironment, type Handler } from './loop/runtime.ts';
export type { Context, ClientContext, CognitoIdentity } from './loop/context.ts';
export { onShutdown, type ShutdownHook } from './loop/shutdown.ts';
export { mapStackTraces } from './loop/source-maps.ts';
export {
  streamifyResponse,
  HttpResponseStream,
  ResponseStream,
  type StreamingHandler,
  type StreamifyOptions,
} from './loop/response-stream.ts';
export { RuntimeApiClient, type Invocation } from './client/runtime-api-client.ts';
export { MAX_RESPONSE_BYTES } from './protocol/index.ts';
export { loadHandlerFromTaskRoot, parseHandlerName } from './loop/handler-loader.ts';
export {
  LambdaRuntimeError,
  MissingEnvironmentError,
  RuntimeApiConnectionError,
  RuntimeApiProtocolError,
  RuntimeApiStatusError,
  MalformedHandlerNameError,
  ImportModuleError,
  UserCodeSyntaxError,
  HandlerNotFoundError,
  SerializationError,
  ResponseSizeTooLargeError,
  UnhandledPromiseRejectionError,
  toErrorPayload,
  RUNTIME_ERRORS,
  type ErrorPayload,
  type ErrorKind,
  type RuntimeErrorSpec,
  type RuntimeErrorTable,
  type RuntimeErrorCode,
} from './errors.ts';
