/**
 * What to build: functions and extensions and their settings, from a `lambda-kit.config.json`,
 * a `lambda-kit.config.mjs` (default export), or a `lambda` field in
 * package.json, overridden by command-line flags. Everything is validated
 * with strict schemas: an unknown key is an error that names the key and the
 * file it came from.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { KitError } from '../errors.ts';

export const ARCHES = ['x86_64', 'arm64'] as const;
export const TARGETS = ['al2023', 'al2', 'al1'] as const;
export const LAYOUTS = ['self-contained', 'thin'] as const;
export const NODE_MAJORS = [24, 22] as const;

export type Arch = (typeof ARCHES)[number];
export type Target = (typeof TARGETS)[number];
export type Layout = (typeof LAYOUTS)[number];
export type NodeMajor = (typeof NODE_MAJORS)[number];

export const CONFIG_FILES = ['lambda-kit.config.mjs', 'lambda-kit.config.json'] as const;
export const DEFAULT_OUT = 'dist/lambda';

const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
/**
 * An extension's name is its file name in /opt/extensions, which its
 * Lambda-Extension-Name must match when it registers.
 */
const EXTENSION_NAME = /^[a-zA-Z0-9_-]+$/;
const EXTENSION_NAME_RULE = 'an extension name is letters, digits, - or _ (its file name in /opt/extensions, which Lambda-Extension-Name must match)';

/** Settings a function may have, and the project may give as defaults for all its functions. */
const settingsShape = {
  arch: z.enum(ARCHES).optional(),
  target: z.enum(TARGETS).optional(),
  /** Checked against the formats the build knows (see build.ts), so that new formats need no schema change. */
  format: z.string().min(1).optional(),
  layout: z.enum(LAYOUTS).optional(),
  external: z.array(z.string().min(1)).optional(),
  nodeMajor: z.union([z.literal(24), z.literal(22)]).optional(),
  sourcemap: z.boolean().optional(),
  sourcesContent: z.boolean().optional(),
  minify: z.boolean().optional(),
  /**
   * Ship a V8 code cache of the bundle, made at build time by loading the
   * function once (its init runs on the build machine): faster cold starts.
   */
  codeCache: z.boolean().optional(),
  /**
   * Evaluate the packages the function imports from node_modules at build
   * time and ship them as a V8 startup snapshot inside the function's own
   * bootstrap: they are not evaluated again on a cold start.
   */
  snapshot: z.boolean().optional(),
  /** --format image: the base image (default: AWS's provided image for the target). */
  baseImage: z.string().min(1).optional(),
  /** --format image: the tag (default lambda-kit/<name>:<arch>). */
  imageTag: z.string().min(1).optional(),
};

export const functionConfigSchema = z.strictObject({
  entry: z.string().min(1),
  /** The exported handler (default "handler"); a dotted path reaches into objects. */
  export: z.string().min(1).optional(),
  ...settingsShape,
});

/** An external extension, built into a layer zip (extensions/<name> and the Node it runs on). */
export const extensionConfigSchema = z.strictObject({
  entry: z.string().min(1),
  arch: settingsShape.arch,
  nodeMajor: settingsShape.nodeMajor,
  sourcemap: settingsShape.sourcemap,
  sourcesContent: settingsShape.sourcesContent,
  minify: settingsShape.minify,
});

export const projectConfigSchema = z
  .strictObject({
    functions: z.record(z.string().regex(FUNCTION_NAME, 'a function name is 1-64 letters, digits, - or _'), functionConfigSchema).optional(),
    extensions: z.record(z.string().regex(EXTENSION_NAME, EXTENSION_NAME_RULE), extensionConfigSchema).optional(),
    /** Single-function shorthand: `{ "entry": "src/handler.ts" }`. */
    entry: z.string().min(1).optional(),
    export: z.string().min(1).optional(),
    name: z.string().regex(FUNCTION_NAME, 'a function name is 1-64 letters, digits, - or _').optional(),
    out: z.string().min(1).optional(),
    ...settingsShape,
  })
  .refine((config) => !(config.functions && (config.entry || config.name || config.export)), {
    message: 'give either "functions" or the single-function shorthand ("entry", "name", "export"), not both',
  });

export type FunctionConfig = z.infer<typeof functionConfigSchema>;
export type ExtensionConfig = z.infer<typeof extensionConfigSchema>;
export type ProjectConfig = z.infer<typeof projectConfigSchema>;

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

export interface LoadedConfig {
  /** The file, for messages: `lambda-kit.config.json`, or `package.json#lambda`. */
  file: string;
  path: string;
  config: ProjectConfig;
}

/** The host's architecture, as Lambda names it. */
export function hostArch(): Arch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'arm64';
  throw new KitError('LK_KIT_BAD_OPTION', `this machine's architecture (${process.arch}) is not one Lambda runs: give --arch x86_64 or --arch arm64`);
}

const ARCH_HINTS: Record<string, Arch> = { x64: 'x86_64', amd64: 'x86_64', 'x86-64': 'x86_64', aarch64: 'arm64' };

function choice<T extends string | number>(value: string | number, allowed: readonly T[], what: string, where: string): T {
  const match = allowed.find((candidate) => String(candidate) === String(value));
  if (match !== undefined) return match;
  const hint = what === 'arch' && ARCH_HINTS[String(value)] ? ` (did you mean ${ARCH_HINTS[String(value)]}?)` : '';
  throw new KitError('LK_KIT_BAD_OPTION', `unknown ${what} "${value}" (${where})${hint}: use ${allowed.join(' or ')}`);
}

export function parseArch(value: string, where = '--arch'): Arch {
  return choice(value, ARCHES, 'arch', where);
}

export function parseTarget(value: string, where = '--target'): Target {
  return choice(value, TARGETS, 'target', where);
}

export function parseLayout(value: string, where = '--layout'): Layout {
  return choice(value, LAYOUTS, 'layout', where);
}

export function parseNodeMajor(value: string | number, where = '--node'): NodeMajor {
  return choice(value, NODE_MAJORS, 'Node major version', where);
}

/** Says which key is wrong, where, and in which file. */
function describeIssues(error: z.ZodError, file: string): string {
  const lines = error.issues.map((issue) => {
    const at = issue.path.length > 0 ? issue.path.map(String).join('.') : 'the top level';
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => `"${key}"`).join(', ');
      const inEntry = issue.path.length === 2 ? issue.path[0] : undefined;
      const shape = inEntry === 'functions' ? functionConfigSchema.shape : inEntry === 'extensions' ? extensionConfigSchema.shape : projectConfigSchema.shape;
      const allowed = Object.keys(shape);
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${keys} at ${at} (allowed: ${allowed.join(', ')})`;
    }
    if (issue.code === 'invalid_key') {
      const key = issue.path[issue.path.length - 1];
      return `${issue.path.slice(0, -1).map(String).join('.') || 'the top level'}: "${String(key)}" is not a valid name: ${issue.issues[0]?.message ?? issue.message}`;
    }
    return `${at}: ${issue.message}`;
  });
  return `${file}: ${lines.join('; ')}`;
}

export function parseProjectConfig(config: unknown, file: string): ProjectConfig {
  const parsed = projectConfigSchema.safeParse(config);
  if (!parsed.success) throw new KitError('LK_KIT_CONFIG', describeIssues(parsed.error, file));
  return parsed.data;
}

function readJson(path: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new KitError('LK_KIT_CONFIG', `${file}: cannot read it as JSON: ${(error as Error).message}`, { cause: error });
  }
}

async function readConfigFile(path: string, file: string): Promise<unknown> {
  if (extname(path) === '.json') return readJson(path, file);
  let module: { default?: unknown };
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new KitError('LK_KIT_CONFIG', `${file}: cannot load it: ${(error as Error).message}`, { cause: error });
  }
  let config = module.default;
  if (typeof config === 'function') config = await (config as () => unknown)();
  if (config === undefined) throw new KitError('LK_KIT_CONFIG', `${file}: it has no default export; write export default { functions: { ... } }`);
  return config;
}

/**
 * Finds the project's config in `root`: lambda-kit.config.mjs,
 * lambda-kit.config.json or the `lambda` field of package.json. Two of them
 * at once is an error (which one wins would be a guess).
 */
export async function loadConfig(root: string, explicitFile?: string): Promise<LoadedConfig | undefined> {
  if (explicitFile !== undefined) {
    const path = resolve(root, explicitFile);
    if (!existsSync(path)) throw new KitError('LK_KIT_CONFIG', `config file ${explicitFile} does not exist`);
    const file = relative(process.cwd(), path) || basename(path);
    const raw = basename(path) === 'package.json' ? (readJson(path, file) as { lambda?: unknown }).lambda : await readConfigFile(path, file);
    if (raw === undefined) throw new KitError('LK_KIT_CONFIG', `${file} has no "lambda" field`);
    return { file, path, config: parseProjectConfig(raw, basename(path) === 'package.json' ? `${file}#lambda` : file) };
  }
  const found: Array<{ file: string; path: string; read: () => Promise<unknown> }> = [];
  for (const name of CONFIG_FILES) {
    const path = resolve(root, name);
    if (existsSync(path)) found.push({ file: name, path, read: () => readConfigFile(path, name) });
  }
  const packageJson = resolve(root, 'package.json');
  if (existsSync(packageJson)) {
    const lambda = (readJson(packageJson, 'package.json') as { lambda?: unknown }).lambda;
    if (lambda !== undefined) found.push({ file: 'package.json#lambda', path: packageJson, read: async () => lambda });
  }
  if (found.length === 0) return undefined;
  if (found.length > 1) {
    throw new KitError('LK_KIT_CONFIG', `the build config is in both ${found.map((entry) => entry.file).join(' and ')}: keep one`);
  }
  const [source] = found as [(typeof found)[number]];
  return { file: source.file, path: source.path, config: parseProjectConfig(await source.read(), source.file) };
}

/** A name for a function from its entry: the file's name, or its folder's for handler/index/main files. */
export function functionNameFor(entry: string): string {
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
    });
  }
  const declaredExtensions = new Map<string, ExtensionConfig>(Object.entries(config.extensions ?? {}));
  // `lambda-kit build <name>` picks by name: one name, one thing.
  const clash = [...declaredExtensions.keys()].find((name) => declared.has(name));
  if (clash !== undefined) {
    throw new KitError('LK_KIT_CONFIG', `${where}: "${clash}" is both a function and an extension: give them different names (a name picks what lambda-kit build builds)`);
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
        selected = [declaredFor ? [declaredFor[0], declaredFor[1], asFile] : [functionNameFor(asFile), { entry: options.selector }, asFile]];
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
  const arch = (configured: Arch | undefined) => (overrides.arch !== undefined ? parseArch(overrides.arch) : (configured ?? config.arch ?? hostArch()));
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
