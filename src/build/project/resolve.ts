/**
 * Config + command-line flags: the functions and extensions to build, with
 * every setting decided. Flags win over a function's own settings, which win
 * over the project's defaults.
 */
import { statSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve } from 'node:path';
import type { Arch } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';
import { hostArch, parseArch, parseLayout, parseNodeMajor, parseTarget, type Layout, type NodeMajor, type Target } from './choices.ts';
import { CONFIG_FILES, loadConfig } from './load.ts';
import type { ExtensionConfig, FunctionConfig, ProjectConfig } from './schema.ts';

export const DEFAULT_OUT = 'dist/lambda';

/** A function, ready to build. */
export interface ResolvedFunction {
  name: string;
  /** Absolute path of the handler's source file. */
  entry: string;
  exportName: string;
  arch: Arch;
  target: Target;
  format: string;
  /** Where the format came from, for messages: "--format", a config file and key, or "default". */
  formatOrigin: string;
  layout: Layout;
  external: string[];
  nodeMajor: NodeMajor;
  sourcemap: boolean;
  sourcesContent: boolean;
  minify: boolean;
  codeCache: boolean;
  snapshot: boolean;
  baseImage: string | undefined;
  imageTag: string | undefined;
}

/** An external extension, ready to build into a layer zip. */
export interface ResolvedExtension {
  name: string;
  /** Absolute path of the extension's source file. */
  entry: string;
  arch: Arch;
  nodeMajor: NodeMajor;
  sourcemap: boolean;
  sourcesContent: boolean;
  minify: boolean;
}

export interface ResolvedProject {
  /** The directory paths in the config are relative to: the config file's, or the working directory. */
  root: string;
  /** Where the config came from (`package.json#lambda` for the package.json field), if anywhere. */
  configFile: string | undefined;
  /** Absolute output directory. */
  out: string;
  functions: ResolvedFunction[];
  extensions: ResolvedExtension[];
}

/** Command-line flags: they win over the config. */
export interface BuildOverrides {
  arch?: string;
  target?: string;
  format?: string;
  layout?: string;
  external?: string[];
  nodeMajor?: string | number;
  out?: string;
  sourcemap?: boolean;
  minify?: boolean;
  codeCache?: boolean;
  snapshot?: boolean;
  baseImage?: string;
  imageTag?: string;
}

/** A name for a function from its entry: the file's name, or its folder's for handler/index/main/app files. */
function functionNameFor(entry: string): string {
  const stem = basename(entry, extname(entry));
  const name = ['handler', 'index', 'main', 'app'].includes(stem) ? basename(dirname(resolve(entry))) : stem;
  return name.replace(/[^a-zA-Z0-9_-]/g, '-').slice(0, 64) || 'function';
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export interface ResolveOptions {
  /** The working directory: where the config is looked for. */
  cwd: string;
  /** A function or extension name, or an entry file; everything in the config when absent. */
  selector?: string;
  configFile?: string;
  overrides?: BuildOverrides;
}

/** Flags that only functions have, by the BuildOverrides key they set. */
const FUNCTION_ONLY_FLAGS: Partial<Record<keyof BuildOverrides, string>> = {
  target: '--target',
  format: '--format',
  layout: '--layout',
  external: '--external',
  baseImage: '--base-image',
  imageTag: '--tag',
  snapshot: '--snapshot',
};

/** Config + flags → the functions and extensions to build, with every setting decided. */
export async function resolveProject(options: ResolveOptions): Promise<ResolvedProject> {
  const cwd = resolve(options.cwd);
  const overrides = options.overrides ?? {};
  const loaded = await loadConfig(cwd, options.configFile);
  const config: ProjectConfig = loaded?.config ?? {};
  const root = loaded ? dirname(loaded.path) : cwd;
  const where = loaded?.file ?? 'the command line';

  // Named functions in the config (the shorthand is one function).
  const declared = new Map<string, FunctionConfig>();
  if (config.functions) for (const [name, fn] of Object.entries(config.functions)) declared.set(name, fn);
  else if (config.entry) {
    declared.set(config.name ?? functionNameFor(config.entry), {
      entry: config.entry,
      ...(config.export !== undefined && { export: config.export }),
      ...(config.imageTag !== undefined && { imageTag: config.imageTag }),
    });
  }
  const declaredExtensions = new Map<string, ExtensionConfig>(Object.entries(config.extensions ?? {}));
  // `lambda-kit build <name>` picks by name: one name, one thing.
  const clash = [...declaredExtensions.keys()].find((name) => declared.has(name));
  if (clash !== undefined) {
    throw new KitError(
      'LK_KIT_CONFIG',
      `${where}: "${clash}" is both a function and an extension: give them different names (a name picks what lambda-kit build builds)`,
    );
  }

  let selected: Array<[string, FunctionConfig, string]>;
  let selectedExtensions: Array<[string, ExtensionConfig, string]> = [];
  if (options.selector === undefined) {
    if (declared.size === 0 && declaredExtensions.size === 0) {
      throw new KitError(
        'LK_KIT_NO_FUNCTIONS',
        loaded
          ? `${loaded.file} lists no functions or extensions: add "functions": { "<name>": { "entry": "src/handler.ts" } }`
          : `nothing to build: give an entry (lambda-kit build src/handler.ts) or list functions in ${CONFIG_FILES[1]} or in a "lambda" field of package.json`,
      );
    }
    selected = [...declared].map(([name, fn]) => [name, fn, resolve(root, fn.entry)]);
    selectedExtensions = [...declaredExtensions].map(([name, extension]) => [name, extension, resolve(root, extension.entry)]);
  } else {
    const byName = declared.get(options.selector);
    const extensionByName = declaredExtensions.get(options.selector);
    const asFile = resolve(cwd, options.selector);
    if (byName) selected = [[options.selector, byName, resolve(root, byName.entry)]];
    else if (extensionByName) {
      selected = [];
      selectedExtensions = [[options.selector, extensionByName, resolve(root, extensionByName.entry)]];
    } else if (isFile(asFile)) {
      // A file that a declared function or extension builds is that one; any other file is built as a function with the project's defaults.
      const declaredFor = [...declared].find(([, fn]) => resolve(root, fn.entry) === asFile);
      const extensionFor = [...declaredExtensions].find(([, extension]) => resolve(root, extension.entry) === asFile);
      if (!declaredFor && extensionFor) {
        selected = [];
        selectedExtensions = [[extensionFor[0], extensionFor[1], asFile]];
      } else {
        selected = [
          declaredFor ? [declaredFor[0], declaredFor[1], asFile] : [functionNameFor(asFile), { entry: options.selector }, asFile],
        ];
      }
    } else {
      const lists = [
        ...(declared.size > 0 ? [`functions in ${where}: ${[...declared.keys()].join(', ')}`] : []),
        ...(declaredExtensions.size > 0 ? [`extensions: ${[...declaredExtensions.keys()].join(', ')}`] : []),
      ];
      throw new KitError(
        'LK_KIT_ENTRY_NOT_FOUND',
        `entry ${options.selector} does not exist and is not the name of a function${declaredExtensions.size > 0 ? ' or an extension' : ''}` +
          `${lists.length > 0 ? ` (${lists.join('; ')})` : ''}; give a handler file, e.g. lambda-kit build src/handler.ts`,
      );
    }
  }

  const checkEntry = (what: string, name: string, entry: string) => {
    if (!isFile(entry)) {
      throw new KitError(
        'LK_KIT_ENTRY_NOT_FOUND',
        `${what} "${name}": entry ${relative(cwd, entry) || entry} does not exist${loaded ? ` (from ${loaded.file})` : ''}`,
      );
    }
  };
  const arch = (configured: Arch | undefined) =>
    overrides.arch !== undefined ? parseArch(overrides.arch) : (configured ?? config.arch ?? hostArch());
  const nodeMajor = (configured: NodeMajor | undefined) =>
    overrides.nodeMajor !== undefined ? parseNodeMajor(overrides.nodeMajor) : (configured ?? config.nodeMajor ?? 24);

  const functions = selected.map(([name, fn, entry]): ResolvedFunction => {
    checkEntry('function', name, entry);
    const pick = <K extends keyof FunctionConfig & keyof ProjectConfig>(key: K) => fn[key] ?? config[key];
    const fnWhere = loaded && config.functions ? `${loaded.file}, functions.${name}` : where;
    const format = overrides.format ?? pick('format') ?? 'zip';
    return {
      name,
      entry,
      exportName: fn.export ?? config.export ?? 'handler',
      arch: arch(fn.arch),
      target: overrides.target !== undefined ? parseTarget(overrides.target) : (pick('target') ?? 'al2023'),
      format,
      formatOrigin: overrides.format !== undefined ? '--format' : pick('format') !== undefined ? fnWhere : 'default',
      layout: overrides.layout !== undefined ? parseLayout(overrides.layout) : (pick('layout') ?? 'self-contained'),
      external: [...new Set([...(config.external ?? []), ...(fn.external ?? []), ...(overrides.external ?? [])])],
      nodeMajor: nodeMajor(fn.nodeMajor),
      sourcemap: overrides.sourcemap ?? pick('sourcemap') ?? true,
      sourcesContent: pick('sourcesContent') ?? false,
      minify: overrides.minify ?? pick('minify') ?? true,
      codeCache: overrides.codeCache ?? pick('codeCache') ?? false,
      snapshot: overrides.snapshot ?? pick('snapshot') ?? false,
      baseImage: overrides.baseImage ?? pick('baseImage'),
      imageTag: overrides.imageTag ?? fn.imageTag,
    };
  });

  if (functions.length === 0) {
    // Only extensions: a flag that only functions have would do nothing, which is never what was meant.
    const given = Object.entries(FUNCTION_ONLY_FLAGS).filter(([key]) => overrides[key as keyof BuildOverrides] !== undefined);
    if (given.length > 0) {
      throw new KitError(
        'LK_KIT_BAD_OPTION',
        `${given.map(([, flag]) => flag).join(', ')} ${given.length > 1 ? 'are' : 'is'} for functions; extension "${selectedExtensions[0]![0]}" is always built into a layer zip: leave ${given.length > 1 ? 'them' : 'it'} out`,
      );
    }
  }

  const extensions = selectedExtensions.map(([name, extension, entry]): ResolvedExtension => {
    checkEntry('extension', name, entry);
    return {
      name,
      entry,
      arch: arch(extension.arch),
      nodeMajor: nodeMajor(extension.nodeMajor),
      sourcemap: overrides.sourcemap ?? extension.sourcemap ?? config.sourcemap ?? true,
      sourcesContent: extension.sourcesContent ?? config.sourcesContent ?? false,
      minify: overrides.minify ?? extension.minify ?? config.minify ?? true,
    };
  });

  return {
    root,
    configFile: loaded?.file,
    out: resolve(overrides.out !== undefined ? cwd : root, overrides.out ?? config.out ?? DEFAULT_OUT),
    functions,
    extensions,
  };
}
