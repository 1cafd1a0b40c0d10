/**
 * lambda-kit/emulator: a local Lambda. The Invoke API in front, execution
 * environments with the Runtime API behind, as AWS runs them.
 */
export { Emulator, parseFunctionDefinition, functionDefinitionSchema, type EmulatorOptions, type FunctionDefinition } from './emulator.ts';
export type { InvokeRequest, InvokeResult, InvokeReport, FunctionSettings } from './invocation.ts';
export { RuntimeApiServer, type InvocationOutcome, type InvokeOptions } from './apis/runtime-api-server.ts';
/** Lambda's limit for a buffered response (the Runtime API's MAX_RESPONSE_BYTES). */
export { MAX_RESPONSE_BYTES as MAX_PAYLOAD_BYTES } from '../../runtime/protocol/index.ts';
export { encodeEventMessage, decodeEventMessages, type DecodedEventMessage } from './apis/event-stream.ts';
export { EmulatorError, FunctionConfigError, LaunchError } from './errors.ts';
