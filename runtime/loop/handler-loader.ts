import { HandlerNotFoundError, ImportModuleError, MalformedHandlerNameError, UserCodeSyntaxError } from '../errors.ts';
// process.getBuiltinModule, not an import: an ESM import of a built-in enumerates all its
// exports, which loads modules the runtime never uses (util's parseArgs and diff, ...) on every cold start.
// Those only loadHandlerFromTaskRoot needs are taken there: a bundle without it (runModule) holds none of them.

export type ModuleNamespace = Record<string, unknown>;

/**
 * Imports a handler's module and classifies what can go wrong the way AWS's
 * Node runtime does: a syntax error is Runtime.UserCodeSyntaxError, a missing
 * module Runtime.ImportModuleError; anything else the module throws while
 * initialising is the user's own init error and is passed on unchanged.
 */
export async function importHandlerModule(load: () => Promise<ModuleNamespace>, name: string): Promise<ModuleNamespace> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new UserCodeSyntaxError(`${error.name}: ${error.message}`, { cause: error });
    }
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(`Error: Cannot find module '${name}': ${(error as Error).message}`, {
        cause: error,
      });
    }
    throw error;
  }
}

/** Finds the function at `exportPath` ("handler" or "nested.handler") in a module namespace. */
export function resolveHandlerExport(module: ModuleNamespace, exportPath: string, fullName: string): Function {
  let value: unknown = module;
  const segments = exportPath.split('.');
  for (const [index, segment] of segments.entries()) {
    let next = (value as Record<string, unknown> | undefined)?.[segment];
    // A CommonJS module imported as ESM keeps its exports on `default`.
    if (next === undefined && index === 0) next = (module.default as Record<string, unknown> | undefined)?.[segment];
    value = next;
  }
  if (value === undefined) throw new HandlerNotFoundError(`${fullName} is undefined or not exported`);
  if (typeof value !== 'function') throw new HandlerNotFoundError(`${fullName} is not a function`);
  return value;
}

interface HandlerName {
  modulePath: string;
  exportPath: string;
}

/**
 * Splits `_HANDLER` ("dir/module.export") the way the managed runtime does.
 *
 * @example
 * ```ts
 * import { parseHandlerName } from 'lambda-kit/runtime';
 *
 * parseHandlerName('src/app.main'); // { modulePath: 'src/app', exportPath: 'main' }
 * ```
 */
export function parseHandlerName(handler: string): HandlerName {
  if (handler.includes('..')) throw new MalformedHandlerNameError(handler);
  const slash = handler.lastIndexOf('/');
  const directory = handler.slice(0, slash + 1);
  const base = handler.slice(slash + 1);
  const dot = base.indexOf('.');
  if (dot <= 0 || dot === base.length - 1) throw new MalformedHandlerNameError(handler);
  return { modulePath: directory + base.slice(0, dot), exportPath: base.slice(dot + 1) };
}

const EXTENSIONS = ['.js', '.mjs', '.cjs', ''];

/**
 * Loads the handler named by `_HANDLER` from the task root, as the managed runtime does.
 *
 * @example
 * ```ts
 * import { loadHandlerFromTaskRoot, run } from 'lambda-kit/runtime';
 *
 * await run(await loadHandlerFromTaskRoot('/var/task', 'index.handler'));
 * ```
 */
export async function loadHandlerFromTaskRoot(taskRoot: string, handler: string): Promise<Function> {
  const { modulePath, exportPath } = parseHandlerName(handler);
  const { existsSync } = process.getBuiltinModule('node:fs');
  const { isAbsolute, join } = process.getBuiltinModule('node:path');
  const { pathToFileURL } = process.getBuiltinModule('node:url');
  const base = isAbsolute(modulePath) ? modulePath : join(taskRoot, modulePath);
  const file = EXTENSIONS.map((extension) => base + extension).find((candidate) => existsSync(candidate));
  if (!file) {
    throw new ImportModuleError(
      `Error: Cannot find module '${modulePath}' in ${taskRoot} (tried ${EXTENSIONS.filter(Boolean).join(', ')})`,
    );
  }
  const module = await importHandlerModule(() => import(pathToFileURL(file).href), modulePath);
  return resolveHandlerExport(module, exportPath, handler);
}
