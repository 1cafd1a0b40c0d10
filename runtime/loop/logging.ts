/**
 * Console output shaped like AWS's managed Node runtime:
 * TEXT: `<ISO timestamp>\t<request id>\t<LEVEL>\t<message>` per line;
 * JSON (AWS_LAMBDA_LOG_FORMAT=JSON): one object per line with timestamp,
 * level, requestId, message (and errorType/errorMessage/stackTrace for errors).
 * Newlines inside a message become \r so one call stays one CloudWatch record.
 * AWS_LAMBDA_LOG_LEVEL drops lines below the level.
 */
import { toErrorPayload } from '../errors.ts';

// See handler-loader.ts: built-ins come from process.getBuiltinModule.
const { format } = process.getBuiltinModule('node:util');

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogScope {
  requestId: string | undefined;
  tenantId: string | undefined;
}

export interface LoggingOptions {
  format: 'TEXT' | 'JSON';
  level: LogLevel;
  /** The scope (request id) of the code that is logging right now. */
  currentScope: () => LogScope | undefined;
  write: (line: string) => void;
}

export function loggingOptionsFromEnv(currentScope: () => LogScope | undefined, env: NodeJS.ProcessEnv = process.env): LoggingOptions {
  const level = (env.AWS_LAMBDA_LOG_LEVEL ?? '').toUpperCase();
  return {
    format: (env.AWS_LAMBDA_LOG_FORMAT ?? '').toUpperCase() === 'JSON' ? 'JSON' : 'TEXT',
    level: (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : 'TRACE',
    currentScope,
    write: (line) => process.stdout.write(line),
  };
}

function formatLogLine(
  options: Pick<LoggingOptions, 'format'>,
  scope: LogScope | undefined,
  level: LogLevel,
  args: unknown[],
  timestamp = new Date().toISOString(),
): string {
  let line: string;
  if (options.format === 'JSON') {
    line = formatJson(timestamp, scope, level, args);
  } else {
    line = `${timestamp}\t${scope?.requestId ?? 'undefined'}\t${level}\t${format(...args)}`;
  }
  return `${line.replace(/\n/g, '\r')}\n`;
}

function formatJson(timestamp: string, scope: LogScope | undefined, level: LogLevel, args: unknown[]): string {
  const record: Record<string, unknown> = { timestamp, level };
  if (scope?.requestId) record.requestId = scope.requestId;
  if (scope?.tenantId) record.tenantId = scope.tenantId;
  if (args.length === 1) {
    record.message = args[0];
    try {
      return JSON.stringify(record, errorReplacer);
    } catch {
      record.message = format(args[0]);
      return JSON.stringify(record);
    }
  }
  record.message = format(...args);
  const error = args.find((arg): arg is Error => arg instanceof Error);
  if (error) {
    record.errorType = error.constructor?.name ?? 'UnknownError';
    record.errorMessage = error.message;
    record.stackTrace = typeof error.stack === 'string' ? error.stack.split('\n') : [];
  }
  return JSON.stringify(record);
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return {
      errorType: value.constructor?.name ?? 'UnknownError',
      errorMessage: value.message,
      stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      ...value,
    };
  }
  return value;
}

const CONSOLE_LEVELS: Array<[keyof Console, LogLevel]> = [
  ['trace', 'TRACE'],
  ['debug', 'DEBUG'],
  ['info', 'INFO'],
  ['log', 'INFO'],
  ['warn', 'WARN'],
  ['error', 'ERROR'],
];

/** Replaces console's level methods (and adds console.fatal, as the managed runtime does). */
export function patchConsole(options: LoggingOptions, target: Console = console): void {
  const threshold = LOG_LEVELS.indexOf(options.level);
  const methods: Array<[string, LogLevel]> = [...CONSOLE_LEVELS, ['fatal', 'FATAL']];
  for (const [method, level] of methods) {
    const enabled = LOG_LEVELS.indexOf(level) >= threshold;
    (target as unknown as Record<string, unknown>)[method] = enabled
      ? (...args: unknown[]) => options.write(formatLogLine(options, options.currentScope(), level, args))
      : () => {};
  }
}

/** Logs from the runtime itself (not the user's code): same format, never filtered below ERROR. */
export function runtimeLog(options: LoggingOptions, level: LogLevel, ...args: unknown[]): void {
  if (LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf(options.level) && level !== 'ERROR' && level !== 'FATAL') return;
  options.write(formatLogLine(options, options.currentScope(), level, args));
}

/**
 * Logs an error the runtime reports (an invocation's, init's, a crash's) as
 * AWS's Node runtime does (aws-lambda-ric's structuredConsole.logError): in
 * TEXT, `<label> \t{...}`, the error as JSON with its name as errorType, its
 * message as errorMessage, its code, its own enumerable fields and its stack
 * as lines; in JSON, the error itself as the record's message. A thrown value
 * that is no Error is logged as an Error of its string form, as there.
 */
export function runtimeLogError(options: LoggingOptions, label: string, thrown: unknown): void {
  const error = thrown instanceof Error ? thrown : new Error(String(thrown));
  if (options.format === 'JSON') return runtimeLog(options, 'ERROR', error);
  let json: string;
  try {
    json = JSON.stringify(error, (_key, value: unknown) => withEnumerableFields(value));
  } catch {
    json = JSON.stringify(toErrorPayload(error));
  }
  runtimeLog(options, 'ERROR', label, `\t${json}`);
}

function withEnumerableFields(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const fields: Record<string, unknown> = {
    errorType: value.name,
    errorMessage: value.message,
    code: (value as { code?: unknown }).code,
    ...value,
  };
  if (typeof value.stack === 'string') fields.stack = value.stack.split('\n');
  return fields;
}
