/**
 * Finding and reading a project's build config: a `lambda-kit.config.json`, a
 * `lambda-kit.config.mjs` (default export), or a `lambda` field in
 * package.json, validated against schema.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { KitError } from '../errors.ts';
import { extensionConfigSchema, functionConfigSchema, projectConfigSchema, type ProjectConfig } from './schema.ts';

export const CONFIG_FILES = ['lambda-kit.config.mjs', 'lambda-kit.config.json'] as const;

export interface LoadedConfig {
  /** The file, for messages: `lambda-kit.config.json`, or `package.json#lambda`. */
  file: string;
  path: string;
  config: ProjectConfig;
}

/** Says which key is wrong, where, and in which file. */
function describeIssues(error: z.ZodError, file: string): string {
  const lines = error.issues.map((issue) => {
    const at = issue.path.length > 0 ? issue.path.map(String).join('.') : 'the top level';
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((key) => `"${key}"`).join(', ');
      const inEntry = issue.path.length === 2 ? issue.path[0] : undefined;
      const shape =
        inEntry === 'functions'
          ? functionConfigSchema.shape
          : inEntry === 'extensions'
            ? extensionConfigSchema.shape
            : projectConfigSchema.shape;
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

function parseProjectConfig(config: unknown, file: string): ProjectConfig {
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
  if (config === undefined)
    throw new KitError('LK_KIT_CONFIG', `${file}: it has no default export; write export default { functions: { ... } }`);
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
    const raw =
      basename(path) === 'package.json' ? (readJson(path, file) as { lambda?: unknown }).lambda : await readConfigFile(path, file);
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
