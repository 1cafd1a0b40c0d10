/**
 * The function's code as one ESM file: esbuild bundles the user's handler and
 * the lambda-kit runtime loop into `index.mjs` (+ `index.mjs.map`). The
 * generated entry imports the handler lazily through runModule(), so errors
 * while loading or initialising the handler's module reach Lambda as init
 * errors; esbuild keeps that import inside the single file as a lazily
 * initialised module (no chunk files). An external extension is bundled the
 * same way, into one file of its own (bundleExtension).
 *
 * What drives a bundle beyond that (--snapshot) gives plugins of its own
 * (BundleOptions.plugins) and bundles index.mjs again with rebundleIndex.
 */
import { dirname, isAbsolute, relative, sep } from 'node:path';
import type { Metafile, Plugin } from 'esbuild';
import type { Arch } from '../../platform/arch.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import { bundleEntry, type EntryBundle } from './esbuild.ts';
import { externalFiles, placeExternals } from './packages.ts';

export interface BundleOptions {
  /** The function's name (for init error messages). */
  name: string;
  /** Absolute path of the handler's source file. */
  entry: string;
  /** The exported handler, e.g. "handler". */
  exportName: string;
  /** The project's root: source map paths are relative to it. */
  root: string;
  arch: Arch;
  /** Packages left out of the bundle and copied, with their dependencies, into node_modules/. */
  external?: string[];
  /** index.mjs.map beside index.mjs (default true). */
  sourcemap?: boolean;
  /** Put the sources into the map (default false: smaller). */
  sourcesContent?: boolean;
  minify?: boolean;
  /** esbuild plugins for index.mjs, run before the kit's own. */
  plugins?: Plugin[];
}

export interface BundleResult {
  /** index.mjs, index.mjs.map, node_modules/** of the externals: sorted by path. */
  files: ArtifactFile[];
  metafile: Metafile;
  /** Size of index.mjs. */
  bundleBytes: number;
}

/** The generated entry of index.mjs, as esbuild's metafile names it among its inputs. */
export const FUNCTION_ENTRY = '<lambda-kit entry>';

/** ./path/to/handler.ts from the project root (an absolute path when the entry lives elsewhere). */
function projectRelative(root: string, entry: string): string {
  const path = relative(root, entry).split(sep).join('/');
  return path.startsWith('../') || isAbsolute(path) ? entry : `./${path}`;
}

/** The generated entry: the runtime loop, importing the handler lazily. */
function generatedEntry(runtime: string, entry: string, exportName: string, name: string, sourceMap = false): string {
  // With a map beside it, the bundle maps its own stack traces, when one is first formatted (runtime/loop/source-maps.ts).
  return [
    `import { runModule${sourceMap ? ', mapStackTraces' : ''} } from ${JSON.stringify(runtime)};`,
    ...(sourceMap ? ['mapStackTraces(import.meta.url);'] : []),
    `await runModule(() => import(${JSON.stringify(entry)}), ${JSON.stringify(exportName)}, ${JSON.stringify(name)});`,
    '',
  ].join('\n');
}

export async function bundleFunction(options: BundleOptions): Promise<BundleResult> {
  const external = options.external ?? [];
  const output = await bundleIndex(options);
  const files: ArtifactFile[] = [{ path: 'index.mjs', data: output.code, mode: 0o644 }];
  if (output.map) files.push({ path: 'index.mjs.map', data: output.map, mode: 0o644 });
  if (external.length > 0) files.push(...externalFiles(placeExternals(external, dirname(options.entry), options.arch)));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, metafile: output.metafile, bundleBytes: output.code.length };
}

/** index.mjs (and its map) bundled again with `options` (their plugins, say), in place of the ones in `bundle`. */
export async function rebundleIndex(options: BundleOptions, bundle: BundleResult): Promise<BundleResult> {
  const output = await bundleIndex(options);
  const index = new Map<string, Buffer | undefined>([
    ['index.mjs', output.code],
    ['index.mjs.map', output.map],
  ]);
  const files = bundle.files.map((file) => (index.has(file.path) ? { ...file, data: index.get(file.path)! } : file));
  return { ...bundle, files, metafile: output.metafile, bundleBytes: output.code.length };
}

/** index.mjs: the generated entry, the function and the runtime loop. */
function bundleIndex(options: BundleOptions): Promise<EntryBundle> {
  const sourcemap = options.sourcemap ?? true;
  return bundleEntry({
    root: options.root,
    entry: options.entry,
    arch: options.arch,
    // Specifiers that do not depend on where the kit or the project are, so maps come out the same anywhere.
    contents: generatedEntry(
      'lambda-kit/runtime',
      projectRelative(options.root, options.entry),
      options.exportName,
      options.name,
      sourcemap,
    ),
    sourcefile: FUNCTION_ENTRY,
    outName: 'index.mjs',
    sourcemap: sourcemap ? 'linked' : false,
    sourcesContent: options.sourcesContent ?? false,
    minify: options.minify ?? true,
    external: options.external ?? [],
    plugins: options.plugins ?? [],
  });
}

export interface ExtensionBundleOptions {
  /** The extension's name: its file name in /opt/extensions. */
  name: string;
  /** Absolute path of the extension's source file. */
  entry: string;
  /** The project's root: source map paths are relative to it. */
  root: string;
  arch: Arch;
  /** A source map (default true). */
  sourcemap?: boolean;
  sourcesContent?: boolean;
  minify?: boolean;
}

export interface ExtensionBundle {
  /** The code, its first line the require banner: the layer puts its #! line before it. */
  code: Buffer;
  /** Its source map, for the code as it is here (no #! line yet). */
  map: Buffer | undefined;
  metafile: Metafile;
}

/**
 * An external extension as one ESM file: the user's module and its npm
 * dependencies, built-ins external, native addons refused. Imported by a
 * generated entry, so that a #! line of the user's own never comes first.
 */
export async function bundleExtension(options: ExtensionBundleOptions): Promise<ExtensionBundle> {
  return bundleEntry({
    root: options.root,
    entry: options.entry,
    arch: options.arch,
    contents: `import ${JSON.stringify(projectRelative(options.root, options.entry))};\n`,
    sourcefile: '<lambda-kit extension>',
    outName: options.name,
    sourcemap: (options.sourcemap ?? true) ? 'external' : false,
    sourcesContent: options.sourcesContent ?? false,
    minify: options.minify ?? true,
    external: [],
  });
}
