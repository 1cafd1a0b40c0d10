import { basename } from 'node:path';
import { EXIT_ERROR_TYPE, EXTENSION_CRASH_ERROR_TYPE, TIMED_OUT_ERROR_TYPE } from '../../../runtime/protocol/index.ts';
import { lambdaEnvironment } from '../../platform/function-environment.ts';
import { initTimedOutMessage, runtimeExitedMessage } from '../../platform/platform-errors.ts';
import type { ExtensionFailure } from '../apis/extensions-api.ts';
import type { InitErrorOutcome } from '../apis/runtime-api-server.ts';
import { describeExit, type Launcher } from '../launchers/launcher.ts';
import type { ExtensionExit, RuntimeExit, Sandbox, Waiting } from './sandbox.ts';
import { destroy } from './shutdown.ts';

/** Why init failed, as the invoke that started the environment gets it. */
export interface InitFailure {
  errorType: string;
  errorMessage: string;
  /** The error document as the runtime posted it on /init/error, when it did. */
  document?: Buffer;
  /** What was logged during init. */
  logs: string[];
}

type InitFailureResult =
  | 'timeout'
  | InitErrorOutcome
  | RuntimeExit
  | ExtensionExit
  | { kind: 'extension-failure'; failure: ExtensionFailure };

/**
 * Lambda's init phase: the external extensions first (each must register),
 * then the runtime; init is done once the runtime and every registered
 * extension have called next. Fails on an init error, an exit of any of
 * them, or the init timeout; a failed sandbox is destroyed.
 */
export async function initialize(sandbox: Sandbox, launcher: Launcher): Promise<{ initDurationMs: number } | { failure: InitFailure }> {
  const { settings, server, extensionsApi, telemetry, log } = sandbox;
  const initLog = log.capture();
  const started = performance.now();
  log.initStart();
  const variables = {
    ...launcher.environment(),
    ...settings.environment,
    ...lambdaEnvironment({
      name: settings.name,
      version: settings.version,
      memoryMb: settings.memoryMb,
      region: settings.region,
      runtimeApi: server.address,
      handler: settings.handler,
      concurrency: settings.runtimeConcurrency,
    }),
  };
  const waits: Array<Waiting<unknown>> = [];
  const wait = <T>(waiting: Waiting<T>): Promise<T> => {
    waits.push(waiting);
    return waiting.promise;
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), settings.initTimeoutMs);
    });
    const extensionFailed = wait(sandbox.until(() => sandbox.extensionFailure !== undefined)).then(
      () => ({ kind: 'extension-failure', failure: sandbox.extensionFailure! }) as const,
    );
    const extensionExit = wait(sandbox.extensionExit());
    // Extension init: each external extension starts and registers before the runtime starts.
    const paths = await launcher.extensions();
    const names = paths.map((path) => basename(path));
    extensionsApi.expectExternal(names);
    for (const path of paths) {
      // The same environment as the runtime gets, AWS_LAMBDA_RUNTIME_API included.
      const process = await launcher.launchExtension(path, variables, (line) => log.extensionLine(line));
      sandbox.addExtensionProcess(basename(path), process);
    }
    let result: 'ready' | 'registered' | InitFailureResult = await Promise.race([
      wait(sandbox.until(() => names.every((name) => extensionsApi.byName(name)))).then(() => 'registered' as const),
      extensionExit,
      extensionFailed,
      timedOut,
    ]);
    if (result === 'registered') {
      // Runtime init and function init.
      sandbox.runtime = await launcher.launch(variables, (line) => log.functionLine(line));
      result = await Promise.race([
        wait(sandbox.until(() => sandbox.runtimeReady && extensionsApi.idle)).then(() => 'ready' as const),
        wait(sandbox.until(() => server.initError !== undefined)).then(() => server.initError!),
        wait(sandbox.runtimeExit()),
        extensionExit,
        extensionFailed,
        timedOut,
      ]);
    }
    const initDurationMs = performance.now() - started;
    if (result === 'ready') {
      extensionsApi.closeRegistration();
      telemetry.closeSubscriptions();
      log.initReady(initDurationMs, extensionsApi.extensions);
      log.release(initLog);
      return { initDurationMs };
    }
    const failed = result as InitFailureResult;
    const { errorType, errorMessage, status } = describeInitFailure(failed, settings.initTimeoutMs);
    log.initFailed(initDurationMs, status, errorType);
    await destroy(sandbox);
    const document = failed !== 'timeout' && failed.kind === 'init-error' ? failed.body : undefined;
    return { failure: { errorType, errorMessage, ...(document !== undefined && { document }), logs: initLog } };
  } catch (error) {
    await destroy(sandbox);
    throw error;
  } finally {
    clearTimeout(timer);
    for (const waiting of waits) waiting.cancel();
  }
}

function describeInitFailure(
  result: InitFailureResult,
  initTimeoutMs: number,
): { errorType: string; errorMessage: string; status: 'error' | 'timeout' } {
  if (result === 'timeout') {
    return { errorType: TIMED_OUT_ERROR_TYPE, errorMessage: initTimedOutMessage(initTimeoutMs), status: 'timeout' };
  }
  switch (result.kind) {
    case 'init-error':
      return { errorType: result.errorType, errorMessage: String(result.error.errorMessage ?? ''), status: 'error' };
    case 'runtime-exit':
      return { errorType: EXIT_ERROR_TYPE, errorMessage: runtimeExitedMessage(describeExit(result.status)), status: 'error' };
    case 'extension-exit':
      return {
        errorType: EXTENSION_CRASH_ERROR_TYPE,
        errorMessage: `Extension ${result.name} exited during init: ${describeExit(result.status)}`,
        status: 'error',
      };
    case 'extension-failure':
      return {
        errorType: result.failure.errorType,
        errorMessage: `Extension ${result.failure.extension.name} reported ${result.failure.phase === 'init' ? 'an init' : 'an exit'} error`,
        status: 'error',
      };
  }
}
