/**
 * Errors of lambda-kit/extension. Failures of the Extensions, Telemetry and
 * Logs APIs themselves are the runtime's ExtensionsApiError (LK_EXTENSION_API_STATUS).
 */
import { LambdaRuntimeError } from '../errors.ts';

/** The options given to runExtension / startInternalExtension cannot work. */
export class ExtensionConfigError extends LambdaRuntimeError {
  constructor(message: string) {
    super('LK_EXTENSION_CONFIG', 'Extension.ConfigError', message);
  }
}

/** A telemetry batch that is not what Lambda sends (not a JSON array); answered 400, the extension goes on. */
export class TelemetryBatchError extends LambdaRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super('LK_EXTENSION_BAD_BATCH', 'Extension.BadTelemetryBatch', message, options);
  }
}
