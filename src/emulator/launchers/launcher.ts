/** How an execution environment's runtime is started: a local command, an unpacked zip, or a container. */
export interface Launcher {
  /** Shown in logs and errors: what is being run. */
  readonly description: string;
  /** Variables this kind of launch sets itself (LAMBDA_TASK_ROOT, PATH, ...). */
  environment(): Record<string, string>;
  launch(environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime>;
  /**
   * The external extensions each environment starts: paths of the executables
   * in its /opt/extensions, in the order Lambda starts them (by name).
   */
  extensions(): Promise<string[]>;
  /** Starts one external extension with the environment the runtime gets. */
  launchExtension(path: string, environment: Record<string, string>, output: (line: string) => void): Promise<LaunchedRuntime>;
  /** Releases what the launcher holds for all its launches (an unpacked task root, for one). */
  dispose(): Promise<void>;
}

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

export interface LaunchedRuntime {
  readonly exited: Promise<ExitStatus>;
  signal(signal: NodeJS.Signals): Promise<void>;
  /** Peak resident memory of the runtime (and its children) so far, as measured by the OS. */
  peakMemoryBytes(): Promise<number | undefined>;
  /** Stops it for good and frees what it used. */
  dispose(): Promise<void>;
}

/** Splits a byte stream into lines, holding a partial last line until it is complete. */
export function lineSplitter(emit: (line: string) => void): { push(chunk: Buffer | string): void; flush(): void } {
  let partial = '';
  return {
    push(chunk) {
      partial += chunk.toString();
      let newline = partial.indexOf('\n');
      while (newline !== -1) {
        emit(partial.slice(0, newline));
        partial = partial.slice(newline + 1);
        newline = partial.indexOf('\n');
      }
    },
    flush() {
      if (partial) emit(partial);
      partial = '';
    },
  };
}

/** How AWS words a runtime's exit, for Runtime.ExitError. */
export function describeExit(status: ExitStatus): string {
  if (status.signal) return `signal: ${status.signal === 'SIGKILL' ? 'killed' : status.signal}`;
  return `exit status ${status.code ?? 'unknown'}`;
}
