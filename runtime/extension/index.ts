/**
 * lambda-kit/extension: Lambda extensions in TypeScript — the Extensions API
 * event loop, Telemetry and Logs API subscribers. Ships inside functions and
 * extension layers: imports only node:* and the runtime's own files.
 */
export {
  runExtension,
  startInternalExtension,
  type ExternalExtensionOptions,
  type InternalExtensionOptions,
  type InternalExtension,
  type TelemetrySubscription,
} from './extension.ts';
export {
  TelemetryListener,
  type TelemetryListenerOptions,
  type TelemetryListenerStats,
  type TelemetryProcessor,
} from './telemetry-listener.ts';
export { parseTelemetryBatch, isRecordOf, type ParsedBatch } from './telemetry-records.ts';
export type * from './telemetry-records.ts';
export { ExtensionConfigError, TelemetryBatchError, EXTENSION_ERRORS, type ExtensionErrorCode } from './errors.ts';
export { registerRequest, nextEventRequest, extensionErrorRequest, subscribeRequest } from '../client/requests.ts';
export {
  ExtensionsApiClient,
  type ExtensionEvent,
  type ExtensionEventType,
  type InvokeEvent,
  type ShutdownEvent,
  type ExtensionRegistration,
  type ExtensionErrorPayload,
} from '../client/extensions-api-client.ts';
export { ExtensionsApiError } from '../errors.ts';
