import { ExecutionEnvironment } from './environment/execution-environment.ts';
import type { InitFailure } from './environment/init.ts';
import { EmulatorError } from './errors.ts';
import type { FunctionSettings, InvokeRequest, InvokeResult } from './invocation.ts';
import type { Launcher } from './launchers/launcher.ts';

/**
 * The environments of one function: up to `maxEnvironments` of them, started
 * on demand (cold starts), reused while warm, replaced when one dies.
 * Invocations beyond what they can take wait in order; none is dropped.
 */
export class FunctionPool {
  readonly settings: FunctionSettings;
  readonly #launcher: Launcher;
  readonly #maxEnvironments: number;
  readonly #log: (line: string) => void;
  readonly #environments = new Set<ExecutionEnvironment>();
  readonly #waiters: Array<() => void> = [];
  #starting = 0;
  #closed = false;

  constructor(settings: FunctionSettings, launcher: Launcher, maxEnvironments: number, log: (line: string) => void) {
    this.settings = settings;
    this.#launcher = launcher;
    this.#maxEnvironments = maxEnvironments;
    this.#log = log;
  }

  /** Environments alive now (a dead one no longer counts). */
  get environmentCount(): number {
    this.#forgetDead();
    return this.#environments.size;
  }

  async invoke(request: InvokeRequest & { requestId: string }): Promise<InvokeResult> {
    for (;;) {
      if (this.#closed) throw new EmulatorError('LK_EMULATOR_CLOSED', `function ${this.settings.name} is shut down`);
      // One whose runtime exited while idle is gone: it leaves room for a fresh one.
      this.#forgetDead();
      const warm = [...this.#environments].find((environment) => environment.hasCapacity);
      if (warm) return this.#run(warm, request);
      if (this.#environments.size + this.#starting < this.#maxEnvironments) {
        this.#starting++;
        let started: Awaited<ReturnType<typeof ExecutionEnvironment.start>>;
        try {
          started = await ExecutionEnvironment.start(this.settings, this.#launcher, this.#log);
        } finally {
          this.#starting--;
        }
        if ('failure' in started) {
          this.#wakeOne();
          return this.#initFailure(request.requestId, started.failure);
        }
        this.#environments.add(started.environment);
        return this.#run(started.environment, request);
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  async close(graceMs?: number): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#environments].map((environment) => environment.shutdown(graceMs)));
    this.#environments.clear();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async #run(environment: ExecutionEnvironment, request: InvokeRequest): Promise<InvokeResult> {
    let result: InvokeResult | undefined;
    try {
      const running = environment.invoke(request);
      // A multi-concurrent runtime takes more at once: let the next waiting invoke in too.
      if (environment.hasCapacity) this.#wakeOne();
      result = await running;
      return result;
    } finally {
      // With extensions still busy the environment is not free yet: it is, or has died, once the invoke settles.
      const free = () => {
        if (!environment.alive) this.#environments.delete(environment);
        this.#wakeOne();
      };
      if (result?.settled) void result.settled.then(free, free);
      else free();
    }
  }

  #forgetDead(): void {
    for (const environment of this.#environments) if (!environment.alive) this.#environments.delete(environment);
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }

  #initFailure(requestId: string, failure: InitFailure): InvokeResult {
    return {
      requestId,
      functionError: true,
      // The runtime's own document when it reported the error (its trace included), the platform's otherwise.
      body: failure.document ?? Buffer.from(JSON.stringify({ errorType: failure.errorType, errorMessage: failure.errorMessage })),
      contentType: 'application/json',
      streamed: false,
      logs: failure.logs,
      report: {
        durationMs: 0,
        billedDurationMs: 0,
        memorySizeMb: this.settings.memoryMb,
        maxMemoryUsedMb: undefined,
        initDurationMs: undefined,
      },
    };
  }
}
