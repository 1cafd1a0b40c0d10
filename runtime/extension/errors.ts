/**
 * Errors of lambda-kit/extension. Failures of the Extensions, Telemetry and
 * Logs APIs themselves are the runtime's ExtensionsApiError
 * (LK_EXTENSION_API_STATUS, in RUNTIME_ERRORS): its client is the runtime's own.
 */
import { LambdaRuntimeError, tableCode, type RuntimeErrorTable } from '../errors.ts';

/** The codes of lambda-kit/extension, each once: its kind, the errorType Lambda is told, and what it means (docs/errors.md). */
export const EXTENSION_ERRORS = {
  /** The options given to runExtension or startInternalExtension cannot work (no name, SHUTDOWN for an internal extension, started after init). */
  LK_EXTENSION_CONFIG: { kind: 'input', errorType: 'Extension.ConfigError' },
  /** A telemetry batch that is not what Lambda sends (not a JSON array, far too large); it is answered 400 or 413 and the extension goes on. */
  LK_EXTENSION_BAD_BATCH: { kind: 'failure', errorType: 'Extension.BadTelemetryBatch' },
} as const satisfies RuntimeErrorTable;

export type ExtensionErrorCode = keyof typeof EXTENSION_ERRORS;

/**
 * The options given to runExtension / startInternalExtension cannot work.
 *
 * @example
 * ```ts
 * import { ExtensionConfigError, startInternalExtension } from 'lambda-kit/extension';
 *
 * // Internal extensions get no SHUTDOWN: this rejects with ExtensionConfigError (LK_EXTENSION_CONFIG).
 * await expect(startInternalExtension({ name: 'x', onShutdown() {} } as never)).rejects.toBeInstanceOf(ExtensionConfigError);
 * ```
 */
export class ExtensionConfigError extends LambdaRuntimeError {
  constructor(message: string) {
    super(tableCode(EXTENSION_ERRORS, 'LK_EXTENSION_CONFIG'), message);
  }
}

/**
 * A telemetry batch that is not what Lambda sends (not a JSON array); answered 400, the extension goes on.
 *
 * @example
 * ```ts
 * import { TelemetryBatchError, TelemetryListener } from 'lambda-kit/extension';
 *
 * const listener = await TelemetryListener.start({
 *   processor: (records) => ship(records),
 *   onError: (error) => console.error(error instanceof TelemetryBatchError ? `bad batch: ${error.message}` : error),
 * });
 * ```
 */
export class TelemetryBatchError extends LambdaRuntimeError {
  constructor(message: string, options?: ErrorOptions) {
    super(tableCode(EXTENSION_ERRORS, 'LK_EXTENSION_BAD_BATCH'), message, options);
  }
}
