/**
 * Telemetry API (schema 2022-12-13) and Logs API (2021-03-18) records, typed
 * by `type`. Lambda adds fields over time, so every record keeps what it
 * carries; these types name what AWS documents.
 */
import type { TelemetryType } from '../protocol/index.ts';

export type { TelemetryType } from '../protocol/index.ts';

interface Tracing {
  spanId?: string;
  type: string;
  value: string;
}

interface Span {
  name: string;
  start: string;
  durationMs: number;
}

export type InitPhase = 'init' | 'invoke';
export type InitializationType = 'on-demand' | 'provisioned-concurrency' | 'snap-start' | 'lambda-managed-instances' | (string & {});
export type InvokeStatus = 'success' | 'failure' | 'error' | 'timeout' | (string & {});

export interface ReportMetrics {
  durationMs: number;
  billedDurationMs: number;
  memorySizeMB: number;
  maxMemoryUsedMB: number;
  initDurationMs?: number;
  restoreDurationMs?: number;
}

interface Record_<T extends string, R> {
  time: string;
  type: T;
  record: R;
}

export type PlatformInitStart = Record_<
  'platform.initStart',
  {
    initializationType: InitializationType;
    phase: InitPhase;
    runtimeVersion?: string;
    runtimeVersionArn?: string;
    functionName?: string;
    functionVersion?: string;
    instanceId?: string;
    instanceMaxMemory?: number;
    tracing?: Tracing;
  }
>;
export type PlatformInitRuntimeDone = Record_<
  'platform.initRuntimeDone',
  {
    initializationType: InitializationType;
    phase: InitPhase;
    status: InvokeStatus;
    errorType?: string;
    spans?: Span[];
    tracing?: Tracing;
  }
>;
export type PlatformInitReport = Record_<
  'platform.initReport',
  {
    initializationType: InitializationType;
    phase: InitPhase;
    status?: InvokeStatus;
    errorType?: string;
    metrics: { durationMs: number };
    spans?: Span[];
    tracing?: Tracing;
  }
>;
export type PlatformStart = Record_<'platform.start', { requestId: string; version?: string; tracing?: Tracing }>;
export type PlatformRuntimeDone = Record_<
  'platform.runtimeDone',
  {
    requestId: string;
    status: InvokeStatus;
    errorType?: string;
    metrics?: { durationMs: number; producedBytes?: number };
    spans?: Span[];
    tracing?: Tracing;
  }
>;
export type PlatformReport = Record_<
  'platform.report',
  {
    requestId: string;
    status: InvokeStatus;
    errorType?: string;
    metrics: ReportMetrics;
    spans?: Span[];
    tracing?: Tracing;
  }
>;
/** Logs API (2021-03-18) only: the end of an invocation. */
export type PlatformEnd = Record_<'platform.end', { requestId: string }>;
export type PlatformExtension = Record_<'platform.extension', { name: string; state: string; events: string[]; errorType?: string }>;
export type PlatformTelemetrySubscription = Record_<
  'platform.telemetrySubscription' | 'platform.logsSubscription',
  {
    name: string;
    state: string;
    types: TelemetryType[];
  }
>;
export type PlatformLogsDropped = Record_<'platform.logsDropped', { reason: string; droppedRecords: number; droppedBytes: number }>;
export type PlatformRestore = Record_<
  'platform.restoreStart' | 'platform.restoreRuntimeDone' | 'platform.restoreReport',
  Record<string, unknown>
>;
/** A log line of the function or an extension: text, or an object when the function logs JSON. */
export type FunctionLog = Record_<'function', string | Record<string, unknown>>;
export type ExtensionLog = Record_<'extension', string | Record<string, unknown>>;
/** A type this version does not know yet: kept, not dropped. */
export type UnknownTelemetryRecord = Record_<string, unknown>;

export type TelemetryRecord =
  | PlatformInitStart
  | PlatformInitRuntimeDone
  | PlatformInitReport
  | PlatformStart
  | PlatformRuntimeDone
  | PlatformReport
  | PlatformEnd
  | PlatformExtension
  | PlatformTelemetrySubscription
  | PlatformLogsDropped
  | PlatformRestore
  | FunctionLog
  | ExtensionLog;

/**
 * Narrows a record by its type.
 *
 * @example
 * ```ts
 * import { isRecordOf, type TelemetryRecord } from 'lambda-kit/extension';
 *
 * const billed = (records: TelemetryRecord[]) =>
 *   records.filter(isRecordOf('platform.report')).map((report) => report.record.metrics.billedDurationMs);
 * ```
 */
export function isRecordOf<T extends TelemetryRecord['type']>(type: T) {
  return (record: TelemetryRecord | UnknownTelemetryRecord): record is Extract<TelemetryRecord, { type: T }> => record.type === type;
}

export interface ParsedBatch {
  records: TelemetryRecord[];
  /** Entries without a string `type` and `time`: skipped, and counted so a processor can tell. */
  skipped: number;
}

/**
 * A batch as Lambda POSTs it: a JSON array of records. Throws on anything that is not one.
 *
 * @example
 * ```ts
 * import { parseTelemetryBatch } from 'lambda-kit/extension';
 *
 * const { records, skipped } = parseTelemetryBatch(await request.text());
 * ```
 */
export function parseTelemetryBatch(body: string): ParsedBatch {
  const parsed: unknown = JSON.parse(body);
  if (!Array.isArray(parsed)) throw new TypeError(`a telemetry batch is a JSON array, got ${parsed === null ? 'null' : typeof parsed}`);
  const records: TelemetryRecord[] = [];
  let skipped = 0;
  for (const entry of parsed) {
    if (entry && typeof entry === 'object' && typeof entry.type === 'string' && typeof entry.time === 'string')
      records.push(entry as TelemetryRecord);
    else skipped++;
  }
  return { records, skipped };
}
