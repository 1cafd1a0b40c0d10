/**
 * External and internal Lambda extensions: register, subscribe to telemetry,
 * then an event loop over INVOKE and SHUTDOWN, with failures reported on
 * init/error and exit/error as the Extensions API asks.
 */
import { toErrorPayload } from '../errors.ts';
import {
  ExtensionsApiClient,
  type ExtensionEventType,
  type ExtensionRegistration,
  type InvokeEvent,
  type ShutdownEvent,
} from '../client/extensions-api-client.ts';
import { addInitTask, isInitOver } from '../loop/init-tasks.ts';
import { ExtensionConfigError } from './errors.ts';
import { TelemetryListener, type TelemetryListenerOptions, type TelemetryProcessor } from './telemetry-listener.ts';
import type { TelemetryType } from './telemetry-records.ts';

// Built-ins through process.getBuiltinModule, as in the runtime (see runtime/loop/handler-loader.ts).
const { basename } = process.getBuiltinModule('node:path');

export interface TelemetrySubscription {
  /** The records, batch by batch, in the order Lambda sent them. */
  processor: TelemetryProcessor;
  /** 'telemetry' (the default; schema 2022-12-13) or the older 'logs' API (schema 2021-03-18). */
  api?: 'telemetry' | 'logs';
  /** Default: platform and function. */
  types?: TelemetryType[];
  /** Lambda batches by count, size or time, whichever comes first (AWS's defaults: 1000 items, 256 KiB, 1000 ms). */
  buffering?: { maxItems?: number; maxBytes?: number; timeoutMs?: number };
  /** Listener settings: host, port, queue size, error sink. */
  listener?: Omit<TelemetryListenerOptions, 'processor' | 'keepsProcessAlive'>;
}

interface CommonOptions {
  /** Ask for extra registration facts; 'accountId' is the one Lambda offers. */
  acceptFeatures?: string[];
  /** Runs after registering and subscribing, before the first event; a failure is reported on init/error. */
  onInit?: (registration: ExtensionRegistration) => void | Promise<void>;
  /** Runs for each invocation; the invocation is complete for Lambda only once this returns. */
  onInvoke?: (event: InvokeEvent) => void | Promise<void>;
  telemetry?: TelemetrySubscription;
}

export interface ExternalExtensionOptions extends CommonOptions {
  /**
   * Lambda wants the extension's file name. Default: $LAMBDA_KIT_EXTENSION_NAME
   * (for running from source), else the running script's name (/opt/extensions/<name>).
   */
  name?: string;
  /** Runs once, when the environment shuts down, before the telemetry still due has arrived. */
  onShutdown?: (event: ShutdownEvent) => void | Promise<void>;
}

export interface InternalExtensionOptions extends CommonOptions {
  /** Any name; it shows in platform.extension telemetry records. */
  name: string;
}

export interface InternalExtension {
  registration: ExtensionRegistration;
  telemetry: TelemetryListener | undefined;
}

const DEFAULT_TYPES: TelemetryType[] = ['platform', 'function'];

/**
 * Runs an external extension (its own process, started by Lambda from
 * /opt/extensions): registers, subscribes, and handles events until SHUTDOWN.
 * Resolves once shutdown is handled and everything is closed.
 *
 * @example
 * ```ts
 * import { isRecordOf, runExtension } from 'lambda-kit/extension';
 *
 * await runExtension({
 *   onShutdown: (event) => console.log('shutting down:', event.shutdownReason),
 *   telemetry: {
 *     processor: (records) => {
 *       for (const report of records.filter(isRecordOf('platform.report'))) console.log(report.record.metrics.billedDurationMs);
 *     },
 *   },
 * });
 * ```
 */
export async function runExtension(options: ExternalExtensionOptions): Promise<void> {
  const name = options.name ?? process.env.LAMBDA_KIT_EXTENSION_NAME ?? (process.argv[1] ? basename(process.argv[1]) : '');
  if (!name) throw new ExtensionConfigError('no extension name: pass `name` (Lambda wants the file name under /opt/extensions)');
  const events: ExtensionEventType[] = ['SHUTDOWN'];
  if (options.onInvoke) events.unshift('INVOKE');
  const client = new ExtensionsApiClient(runtimeApi());
  const { telemetry } = await initialise(client, name, events, options, true);
  try {
    for (;;) {
      const event = await client.nextEvent();
      if (event.eventType === 'INVOKE') {
        await options.onInvoke?.(event);
        continue;
      }
      await options.onShutdown?.(event);
      // Lambda still delivers what the function logged last: wait for a quiet spell, within the window.
      const quietMs = Math.min((options.telemetry?.buffering?.timeoutMs ?? 1000) + 100, 1000);
      await telemetry?.settle(quietMs, event.deadlineMs - 100);
      return;
    }
  } catch (error) {
    await reportAndRethrow(client, 'exit', error, 'Extension.Unhandled');
  } finally {
    await telemetry?.close();
    client.close();
  }
}

/**
 * Starts an internal extension inside the function's own process (call it at
 * module top level: registrations close when init does). The runtime waits for
 * its registration before its first invocation; the event loop then runs in
 * the background. Internal extensions get no SHUTDOWN: use onShutdown from
 * lambda-kit/runtime for clean-up.
 *
 * @example
 * ```ts
 * import { startInternalExtension } from 'lambda-kit/extension';
 *
 * // At module top level, beside the handler.
 * void startInternalExtension({
 *   name: 'invocation-counter',
 *   onInvoke: (event) => console.log('invoked:', event.requestId),
 * });
 * ```
 */
export function startInternalExtension(options: InternalExtensionOptions): Promise<InternalExtension> {
  if ('onShutdown' in options) {
    return Promise.reject(
      new ExtensionConfigError('internal extensions cannot receive SHUTDOWN (Lambda refuses it): use onShutdown from lambda-kit/runtime'),
    );
  }
  if (isInitOver()) {
    return Promise.reject(
      new ExtensionConfigError(
        `internal extension ${options.name}: Lambda takes registrations during init only; start it at module top level`,
      ),
    );
  }
  const events: ExtensionEventType[] = options.onInvoke ? ['INVOKE'] : [];
  // Its next waits with the runtime's; the runtime decides when the process ends.
  const client = new ExtensionsApiClient(runtimeApi(), { nextKeepsProcessAlive: false });
  const started = initialise(client, options.name, events, options, false);
  addInitTask(started);
  void started.then(
    async () => {
      try {
        for (;;) {
          const event = await client.nextEvent();
          if (event.eventType === 'INVOKE') await options.onInvoke?.(event);
        }
      } catch (error) {
        await reportAndRethrow(client, 'exit', error, 'Extension.Unhandled').catch((reported) =>
          console.error(`internal extension ${options.name} failed:`, reported),
        );
      }
    },
    () => {},
  );
  return started;
}

async function initialise(
  client: ExtensionsApiClient,
  name: string,
  events: ExtensionEventType[],
  options: CommonOptions,
  keepsProcessAlive: boolean,
): Promise<InternalExtension> {
  const registration = await client.register(name, events, options.acceptFeatures);
  let telemetry: TelemetryListener | undefined;
  try {
    if (options.telemetry) telemetry = await subscribe(client, options.telemetry, keepsProcessAlive);
    await options.onInit?.(registration);
    return { registration, telemetry };
  } catch (error) {
    await telemetry?.close();
    return reportAndRethrow(client, 'init', error, 'Extension.InitError');
  }
}

async function subscribe(
  client: ExtensionsApiClient,
  subscription: TelemetrySubscription,
  keepsProcessAlive: boolean,
): Promise<TelemetryListener> {
  const listener = await TelemetryListener.start({ ...subscription.listener, processor: subscription.processor, keepsProcessAlive });
  const api = subscription.api ?? 'telemetry';
  const buffering = { maxItems: 1000, maxBytes: 262_144, timeoutMs: 1000, ...subscription.buffering };
  try {
    await client.subscribe(api, {
      schemaVersion: api === 'telemetry' ? '2022-12-13' : '2021-03-18',
      destination: { protocol: 'HTTP', URI: listener.uri },
      types: subscription.types ?? DEFAULT_TYPES,
      buffering,
    });
  } catch (error) {
    await listener.close();
    throw error;
  }
  return listener;
}

/** Tells Lambda why the extension stops (it then resets the environment), and fails with the same error. */
async function reportAndRethrow(client: ExtensionsApiClient, phase: 'init' | 'exit', error: unknown, fallbackType: string): Promise<never> {
  const payload = toErrorPayload(error);
  const errorType = payload.errorType.startsWith('Extension.') ? payload.errorType : fallbackType;
  try {
    await client.reportError(phase, { errorType, errorMessage: payload.errorMessage, stackTrace: payload.trace });
  } catch (reportError) {
    console.error(`could not report the extension's ${phase} error:`, reportError);
  }
  throw error;
}

function runtimeApi(): string {
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!api)
    throw new ExtensionConfigError(
      'AWS_LAMBDA_RUNTIME_API is not set: extensions run under Lambda or the lambda-kit emulator, which set it',
    );
  return api;
}
