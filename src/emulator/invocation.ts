/**
 * What the emulator knows about a function as far as running it goes, and
 * what one invocation of it takes and gives: the terms the Emulator, its
 * pools, their execution environments and the Invoke API server share.
 */

/** What Lambda knows about a function, as far as running it goes. */
export interface FunctionSettings {
  name: string;
  version: string;
  region: string;
  accountId: string;
  memoryMb: number;
  timeoutSeconds: number;
  handler: string | undefined;
  environment: Record<string, string>;
  /** AWS_LAMBDA_MAX_CONCURRENCY: invocations one environment's runtime takes at once. */
  runtimeConcurrency: number;
  /** Lambda gives init 10 s before it gives up on an environment. */
  initTimeoutMs: number;
}

export interface InvokeRequest {
  payload: Buffer;
  requestId?: string;
  /** Decoded client context JSON (the Invoke API takes it base64). */
  clientContext?: string;
  cognitoIdentity?: string;
  tenantId?: string;
  traceId?: string;
  onChunk?: (chunk: Buffer) => void;
}

export interface InvokeReport {
  durationMs: number;
  billedDurationMs: number;
  memorySizeMb: number;
  maxMemoryUsedMb: number | undefined;
  initDurationMs: number | undefined;
}

export interface InvokeResult {
  requestId: string;
  /** True when the caller must see X-Amz-Function-Error: Unhandled. */
  functionError: boolean;
  /** The response, or the error document for a function error. */
  body: Buffer;
  contentType: string;
  /** Whether the runtime streamed its answer. */
  streamed: boolean;
  /** For a stream that ended with error trailers: the error the runtime reported. */
  streamError?: { errorType: string; body: string };
  /**
   * The invocation's log: START, the function's lines, END and REPORT, as
   * CloudWatch shows them. When extensions registered for INVOKE, the answer
   * comes before they are done: then it ends where the runtime answered, and
   * END and REPORT follow in the function's log once `settled` resolves.
   */
  logs: string[];
  /** The runtime's part; the final report when `settled` is absent. */
  report: InvokeReport;
  /**
   * Present when extensions registered for INVOKE: resolves with the final
   * report (the Duration includes their work) once each of them has called
   * next again, as Lambda's invoke phase ends only then.
   */
  settled?: Promise<InvokeReport>;
}
