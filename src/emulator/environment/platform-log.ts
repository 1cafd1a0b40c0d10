import type { RegisteredExtension, TraceContext } from '../apis/extensions-api.ts';
import type { InvokeReport } from '../invocation.ts';

/** Where the platform's Telemetry API records go (an environment's TelemetryApi). */
export interface TelemetrySink {
  publish(type: string, record: unknown): void;
}

/** How an invocation or init ended, as the Telemetry API's records put it. */
export interface RunStatus {
  status: 'success' | 'error' | 'failure' | 'timeout';
  errorType?: string;
}

const INIT_RECORD = { initializationType: 'on-demand', phase: 'init' } as const;

/** Telemetry metrics are in ms with microseconds at most. */
const round = (ms: number) => Math.round(ms * 1000) / 1000;

/**
 * What the platform writes about one execution environment: each thing that
 * happens (START, END, REPORT, init's end, a timeout, a crash, a line of the
 * function's output) as its CloudWatch line and its Telemetry API record
 * together, from one call, so that the two always agree. Some happenings
 * have only one of the two, as under Lambda: no line for INIT_START or
 * runtimeDone, no record of their own for a timeout or a crash (the records
 * carry their status). Lines also go to every open capture: the log of an
 * invocation, or of init.
 */
export class PlatformLog {
  readonly #write: (line: string) => void;
  readonly #telemetry: TelemetrySink;
  readonly #captures = new Set<string[]>();

  constructor(write: (line: string) => void, telemetry: TelemetrySink) {
    this.#write = write;
    this.#telemetry = telemetry;
  }

  /** Collects every line written from now until it is released. */
  capture(): string[] {
    const lines: string[] = [];
    this.#captures.add(lines);
    return lines;
  }

  release(capture: string[]): void {
    this.#captures.delete(capture);
  }

  /** A line of the runtime's output: the function's log (internal extensions' too, as in Lambda). */
  functionLine(line: string): void {
    this.#line(line);
    this.#telemetry.publish('function', line);
  }

  /** A line of an external extension's output. */
  extensionLine(line: string): void {
    this.#line(line);
    this.#telemetry.publish('extension', line);
  }

  initStart(): void {
    this.#telemetry.publish('platform.initStart', { ...INIT_RECORD });
  }

  extensionRegistered(extension: RegisteredExtension): void {
    this.#telemetry.publish('platform.extension', { name: extension.name, state: 'Ready', events: [...extension.events] });
  }

  /** Init succeeded: a line per registered extension, and init's runtimeDone and report. */
  initReady(initDurationMs: number, extensions: RegisteredExtension[]): void {
    for (const extension of extensions) {
      this.#line(`EXTENSION\tName: ${extension.name}\tState: Ready\tEvents: [${[...extension.events].join(', ')}]`);
    }
    this.#telemetry.publish('platform.initRuntimeDone', { ...INIT_RECORD, status: 'success' });
    this.#telemetry.publish('platform.initReport', { ...INIT_RECORD, status: 'success', metrics: { durationMs: round(initDurationMs) } });
  }

  /** Init failed or timed out: INIT_REPORT, and init's runtimeDone and report. */
  initFailed(initDurationMs: number, status: 'error' | 'timeout', errorType: string): void {
    this.#line(
      `INIT_REPORT Init Duration: ${initDurationMs.toFixed(2)} ms\tPhase: init\tStatus: ${status}` +
        (status === 'error' ? `\tError Type: ${errorType}` : ''),
    );
    this.#telemetry.publish('platform.initRuntimeDone', { ...INIT_RECORD, status, errorType });
    this.#telemetry.publish('platform.initReport', { ...INIT_RECORD, status, errorType, metrics: { durationMs: round(initDurationMs) } });
  }

  start(requestId: string, version: string, tracing: TraceContext): void {
    this.#line(`START RequestId: ${requestId} Version: ${version}`);
    this.#telemetry.publish('platform.start', { requestId, version, tracing });
  }

  /** The runtime answered (or failed to): its part of the invocation. */
  runtimeDone(requestId: string, status: RunStatus, durationMs: number, producedBytes: number, tracing: TraceContext): void {
    this.#telemetry.publish('platform.runtimeDone', {
      requestId,
      ...status,
      metrics: { durationMs: round(durationMs), producedBytes },
      tracing,
    });
  }

  timedOut(requestId: string, timeoutSeconds: number): void {
    this.#line(`${new Date().toISOString()} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`);
  }

  /** The runtime or an extension died mid-invocation (Runtime.ExitError, Extension.Crash). */
  crashed(requestId: string, errorType: string, message: string): void {
    this.#line(`RequestId: ${requestId} Error: ${message}\n${errorType}`);
  }

  end(requestId: string): void {
    this.#line(`END RequestId: ${requestId}`);
    this.#telemetry.publish('platform.end', { requestId });
  }

  report(requestId: string, report: InvokeReport, status: RunStatus, tracing: TraceContext): void {
    const { durationMs, billedDurationMs, memorySizeMb, maxMemoryUsedMb, initDurationMs } = report;
    this.#line(
      `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${billedDurationMs} ms\t` +
        `Memory Size: ${memorySizeMb} MB\tMax Memory Used: ${maxMemoryUsedMb ?? 0} MB\t` +
        (initDurationMs === undefined ? '' : `Init Duration: ${initDurationMs.toFixed(2)} ms\t`),
    );
    const metrics = {
      durationMs: round(durationMs),
      billedDurationMs,
      memorySizeMB: memorySizeMb,
      maxMemoryUsedMB: maxMemoryUsedMb ?? 0,
      ...(initDurationMs !== undefined && { initDurationMs: round(initDurationMs) }),
    };
    this.#telemetry.publish('platform.report', { requestId, ...status, metrics, tracing });
  }

  #line(line: string): void {
    this.#write(line);
    for (const capture of this.#captures) capture.push(line);
  }
}
