import type { ShutdownReason } from '../apis/extensions-api.ts';
import type { FunctionSettings, InvokeRequest, InvokeResult } from '../invocation.ts';
import type { Launcher } from '../launchers/launcher.ts';
import { initialize, type InitFailure } from './init.ts';
import { invoke } from './invoke.ts';
import { Sandbox } from './sandbox.ts';
import { destroy, shutdown, terminate } from './shutdown.ts';

/**
 * One execution environment: a Runtime API of its own (with the Extensions,
 * Telemetry and Logs APIs on the same host:port), one runtime process or
 * container and its external extension processes. Dies on a timeout or a
 * crash of any of them; the pool then starts a fresh one. Its phases are
 * beside it: init.ts, invoke.ts, shutdown.ts.
 */
export class ExecutionEnvironment {
  readonly #sandbox: Sandbox;
  #inFlight = 0;
  /** Init Duration, reported (and billed, for custom runtimes) on the environment's first invoke only. */
  #pendingInitDurationMs: number | undefined;

  private constructor(sandbox: Sandbox, initDurationMs: number) {
    this.#sandbox = sandbox;
    this.#pendingInitDurationMs = initDurationMs;
    // A runtime or extension that exits between invokes ends its environment; mid-invoke, the invoke ends it.
    const endIfIdle = () => {
      if (this.#inFlight === 0) void terminate(sandbox, 'failure');
    };
    void sandbox.runtimeExit().promise.then(endIfIdle);
    void sandbox.extensionExit().promise.then(endIfIdle);
  }

  /**
   * Starts an environment as Lambda's init phase does (see initialize()):
   * the environment, or why its init failed.
   */
  static async start(
    settings: FunctionSettings,
    launcher: Launcher,
    log: (line: string) => void,
  ): Promise<{ environment: ExecutionEnvironment } | { failure: InitFailure }> {
    const sandbox = await Sandbox.create(settings, log);
    const init = await initialize(sandbox, launcher);
    if ('failure' in init) return init;
    return { environment: new ExecutionEnvironment(sandbox, init.initDurationMs) };
  }

  get alive(): boolean {
    return !this.#sandbox.dead;
  }

  /** Whether it takes another invoke: alive, its runtime still there, and a polling loop free. */
  get hasCapacity(): boolean {
    return this.alive && !this.#sandbox.runtimeExited && this.#inFlight < this.#sandbox.settings.runtimeConcurrency;
  }

  invoke(request: InvokeRequest): Promise<InvokeResult> {
    this.#inFlight++;
    const initDurationMs = this.#pendingInitDurationMs;
    this.#pendingInitDurationMs = undefined;
    return invoke(this.#sandbox, request, initDurationMs, () => this.#inFlight--);
  }

  /** Lambda's Shutdown phase (see shutdown()). */
  shutdown(graceMs?: number, reason: ShutdownReason = 'spindown'): Promise<void> {
    return shutdown(this.#sandbox, graceMs, reason);
  }

  /** Kills the runtime and extensions at once and frees everything. */
  destroy(): Promise<void> {
    return destroy(this.#sandbox);
  }
}
