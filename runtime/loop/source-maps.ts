/**
 * Stack traces through a bundle's source map, worked out when a stack is
 * first formatted. Node's own support (`--enable-source-maps`) does its work
 * when a module loads: it counts the line lengths of the whole bundle char
 * by char and reads and parses the map, on every cold start, whether or not
 * anything ever throws (what that costs in start time and memory: see
 * bench/README.md). Here the map is read on the first stack that passes
 * through the bundle, and frames are written as Node writes them with its
 * own support on (lib/internal/source_map/prepare_stack_trace.js), so traces
 * read the same.
 */

// See handler-loader.ts: built-ins come from process.getBuiltinModule.
type SourceMap = import('node:module').SourceMap;
type CallSite = NodeJS.CallSite & {
  getEnclosingLineNumber(): number | null;
  getEnclosingColumnNumber(): number | null;
  isAsync(): boolean;
};

const AT = '\n    at ';

/**
 * Maps the frames of `bundleUrl` (the bundle's own import.meta.url) through
 * the map the kit writes beside it (`index.mjs.map`), read when the first
 * stack through the bundle is formatted. Node formats the stack as ever (its
 * `Error.prepareStackTrace`, which writes the code of its own errors too);
 * only the bundle's frames are written again. Does nothing when Node maps
 * stacks itself, or something else formats them.
 *
 * @example
 * ```ts
 * // The entry of a bundle built with a source map (what `lambda-kit build` generates).
 * import { mapStackTraces, runModule } from 'lambda-kit/runtime';
 *
 * mapStackTraces(import.meta.url);
 * await runModule(() => import('./handler.ts'), 'handler', 'handler');
 * ```
 */
export function mapStackTraces(bundleUrl: string): void {
  const nodeFormat = Error.prepareStackTrace;
  if (process.sourceMapsEnabled || typeof nodeFormat !== 'function' || nodeFormat.name !== 'ErrorPrepareStackTrace') return;
  // undefined: not read yet; null: there is none, or it cannot be read (frames stay as they are).
  let map: SourceMap | null | undefined;
  Error.prepareStackTrace = function prepareStackTrace(error: Error, trace: CallSite[]): unknown {
    const formatted: unknown = nodeFormat(error, trace);
    if (!trace.some((callSite) => callSite.getFileName() === bundleUrl)) return formatted;
    // Node writes each frame as the call site's own string: those are replaced, the first line is kept.
    const plain = trace.map((callSite) => `${AT}${callSite}`);
    const frames = plain.join('');
    if (typeof formatted !== 'string' || !formatted.endsWith(frames)) return formatted;
    if (map === undefined) map = readSourceMap(bundleUrl);
    if (map === null) return formatted;
    const sourceMap = map;
    const mapped = trace.map((callSite, i) => {
      if (callSite.getFileName() !== bundleUrl) return plain[i];
      try {
        return `${AT}${mappedFrame(sourceMap, callSite, trace[i + 1])}`;
      } catch {
        return plain[i];
      }
    });
    return `${formatted.slice(0, formatted.length - frames.length)}${mapped.join('')}`;
  } as (error: Error, trace: NodeJS.CallSite[]) => unknown;
}

/** The bundle's map, its sources made absolute URLs as Node makes them; null when there is none or it is unreadable. */
function readSourceMap(bundleUrl: string): SourceMap | null {
  try {
    const mapUrl = new URL(`${bundleUrl}.map`);
    const payload = JSON.parse(process.getBuiltinModule('node:fs').readFileSync(mapUrl, 'utf8'));
    payload.sources = (payload.sources as string[]).map((source) => new URL(`${payload.sourceRoot ?? ''}${source}`, mapUrl).href);
    payload.sourceRoot = '';
    return new (process.getBuiltinModule('node:module').SourceMap)(payload);
  } catch {
    return null;
  }
}

/** One frame through the map, as Node's serializeJSStackFrame writes it. */
function mappedFrame(sourceMap: SourceMap, callSite: CallSite, caller: CallSite | undefined): string {
  const entry = sourceMap.findEntry(callSite.getLineNumber()! - 1, callSite.getColumnNumber()! - 1) as Partial<SourceMapEntry>;
  if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return `${callSite}`;
  const name = originalName(sourceMap, callSite, caller);
  const source = entry.originalSource.startsWith('file://')
    ? process.getBuiltinModule('node:url').fileURLToPath(entry.originalSource)
    : entry.originalSource;
  const prefix = callSite.isAsync() ? 'async ' : callSite.isConstructor() ? 'new ' : '';
  const typeName = callSite.getTypeName();
  const typePrefix = typeName !== null && typeName !== 'global' ? `${typeName}.` : '';
  const ownName = `${callSite.getFunctionName() ?? callSite.getMethodName() ?? ''}` || '<anonymous>';
  return `${prefix}${typePrefix}${name || ownName} (${source}:${entry.originalLine + 1}:${entry.originalColumn + 1})`;
}

interface SourceMapEntry {
  originalSource: string;
  originalLine: number;
  originalColumn: number;
  name: string;
}

/** A name the bundler renamed, from the map's names: the enclosing function's, or else the caller's. */
function originalName(sourceMap: SourceMap, callSite: CallSite, caller: CallSite | undefined): string | undefined {
  const enclosing = sourceMap.findEntry(
    callSite.getEnclosingLineNumber()! - 1,
    callSite.getEnclosingColumnNumber()! - 1,
  ) as Partial<SourceMapEntry>;
  if (enclosing.name) return enclosing.name;
  if (caller && callSite.getFileName() === caller.getFileName()) {
    return (sourceMap.findEntry(caller.getLineNumber()! - 1, caller.getColumnNumber()! - 1) as Partial<SourceMapEntry>).name;
  }
  return undefined;
}
