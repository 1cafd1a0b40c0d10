/**
 * The function's code as one ESM file: esbuild bundles the user's handler and
 * the lambda-kit runtime loop into `index.mjs` (+ `index.mjs.map`). The
 * generated entry imports the handler lazily through runModule(), so errors
 * while loading or initialising the handler's module reach Lambda as init
 * errors; esbuild keeps that import inside the single file as a lazily
 * initialised module (no chunk files). An external extension is bundled the
 * same way, into one file of its own (bundleExtension).
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Metafile, type Plugin } from 'esbuild';
import type { Arch } from '../../platform/arch.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import { KitError } from '../errors.ts';
import {
  LAMBDA_KIT_PACKAGE,
  releaseModuleBodies,
  SNAPSHOT_NAMESPACE,
  snapshotPlugin,
  vendorEntry,
  VENDOR_IMPORT_META,
  type VendorBundle,
  type VendorModule,
} from '../snapshot/snapshot-bundle.ts';
import {
  ADDON_LOADERS,
  describeEvidence,
  externalFiles,
  nativeAddonError,
  nativeEvidence,
  packageOf,
  placeExternals,
} from './packages.ts';

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
  /**
   * --snapshot: packages imported from node_modules are left out of index.mjs
   * (which reads them from the snapshot) and bundled apart, for the snapshot
   * to evaluate at build time (see snapshot.ts).
   */
  snapshot?: boolean;
}

export interface BundleResult {
  /** index.mjs, index.mjs.map, node_modules/** of the externals: sorted by path. */
  files: ArtifactFile[];
  metafile: Metafile;
  /** Size of index.mjs. */
  bundleBytes: number;
  /** With `snapshot`: what the snapshot is to hold. */
  vendor?: VendorBundle;
}

/** Node 22 is the oldest Node the runtime supports. */
const ESBUILD_TARGET = 'node22';

/**
 * CommonJS dependencies call require('node:...'): in an ESM file esbuild's
 * shim needs a `require` in scope. (esbuild never names its own symbols
 * `require`, so this cannot clash.) Made on first use, through
 * process.getBuiltinModule: an ESM import of node:module enumerates all its
 * exports and loads the worker machinery on every cold start, about 1 ms,
 * even for functions that never require anything.
 */
export const REQUIRE_BANNER =
  'const require=(()=>{let r;const real=()=>r??=process.getBuiltinModule("node:module").createRequire(import.meta.url);' +
  'const require=(id)=>real()(id);require.resolve=(id,options)=>real().resolve(id,options);return require})();';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The runtime loop's entry. Always its TypeScript sources where they are (in a
 * checkout, and in the package, which ships runtime/), so that a build from
 * source, from the installed kit or inside a builder image bundles the same
 * input and gives the same bytes; the compiled copy only as a last resort.
 */
export function runtimeEntry(): string {
  for (const candidate of ['../../../runtime/index.ts', '../../../../runtime/index.ts', '../../../runtime/index.js']) {
    const path = resolve(here, candidate);
    if (existsSync(path)) return path;
  }
  throw new KitError('LK_KIT_RUNTIME_NOT_FOUND', `the lambda-kit runtime is not at ${resolve(here, '../../../runtime')}: reinstall lambda-kit`);
}

/**
 * The map names the runtime's files as lambda-kit/runtime/<file>, not by where
 * this kit happens to be installed: the same function gives the same map (and
 * zip) wherever it is built.
 */
function stableSourceMap(map: Buffer, outDir: string, runtimeDir: string): Buffer {
  const parsed = JSON.parse(map.toString('utf8')) as { sources?: string[] };
  parsed.sources = parsed.sources?.map((source) => {
    const inRuntime = relative(runtimeDir, resolve(outDir, source));
    return inRuntime.startsWith('..') || isAbsolute(inRuntime) ? source : `lambda-kit/runtime/${inRuntime.split(sep).join('/')}`;
  });
  return Buffer.from(JSON.stringify(parsed));
}

/** ./path/to/handler.ts from the project root (an absolute path when the entry lives elsewhere). */
function projectRelative(root: string, entry: string): string {
  const path = relative(root, entry).split(sep).join('/');
  return path.startsWith('../') || isAbsolute(path) ? entry : `./${path}`;
}

/** The generated entry: the runtime loop, importing the handler lazily. */
export function generatedEntry(runtime: string, entry: string, exportName: string, name: string, sourceMap = false): string {
  // With a map beside it, the bundle maps its own stack traces, when one is first formatted (runtime/source-maps.ts).
  return [
    `import { runModule${sourceMap ? ', mapStackTraces' : ''} } from ${JSON.stringify(runtime)};`,
    ...(sourceMap ? ['mapStackTraces(import.meta.url);'] : []),
    `await runModule(() => import(${JSON.stringify(entry)}), ${JSON.stringify(exportName)}, ${JSON.stringify(name)});`,
    '',
  ].join('\n');
}

interface NativeFinding {
  name: string;
  evidence: string;
}

/**
 * `lambda-kit/runtime` in a handler is the same runtime the entry uses (one
 * copy in the bundle); compiled addons and addon loaders are noted, to be
 * refused after the build with a clear message.
 */
function kitPlugin(runtime: string, findings: NativeFinding[], root: string): Plugin {
  const loaders = new RegExp(`^(${ADDON_LOADERS.map((name) => name.replace(/[/.]/g, '\\$&')).join('|')})$`);
  return {
    name: 'lambda-kit',
    setup(build) {
      build.onResolve({ filter: /^lambda-kit\/runtime$/ }, () => ({ path: runtime }));
      build.onResolve({ filter: /\.node$/ }, (args) => {
        const addon = resolve(args.resolveDir, args.path);
        const owner = packageOf(args.importer);
        findings.push({
          name: owner?.name ?? relative(root, args.importer),
          evidence: `${owner ? relative(owner.dir, addon) : relative(root, addon)}, required by ${owner ? relative(owner.dir, args.importer) : relative(root, args.importer)}`,
        });
        return { path: args.path, external: true };
      });
      build.onResolve({ filter: loaders }, (args) => {
        const owner = packageOf(args.importer);
        findings.push({ name: owner?.name ?? relative(root, args.importer), evidence: `loads its addon with ${args.path}` });
        return undefined;
      });
    },
  };
}

function formatMessages(messages: Message[]): string {
  return messages
    .slice(0, 5)
    .map((message) => {
      const at = message.location ? `${message.location.file}:${message.location.line}:${message.location.column}: ` : '';
      return `${at}${message.text}`;
    })
    .join('\n  ');
}

interface EsbuildRun {
  /** The project's root: paths in the map are relative to it. */
  root: string;
  /** The user's source file (for messages). */
  entry: string;
  arch: Arch;
  /** The generated entry module and its name in messages and maps. */
  contents: string;
  sourcefile: string;
  /** The output's file name (in root; nothing is written). */
  outName: string;
  /** 'linked': a map file and a comment pointing at it; 'external': the map alone. */
  sourcemap: false | 'linked' | 'external';
  sourcesContent: boolean;
  /** Whitespace and syntax; identifiers keep their names unless `shortenNames`. */
  minify: boolean;
  /**
   * Minify identifiers too: only for the vendor bundle of --snapshot, whose
   * code runs at build time and whose source stays in the snapshot's heap.
   * Code that starts with the function is left its names: measured, a bundle
   * of the AWS SDK's DynamoDB client started 8 ms sooner so (100 against 108
   * ms: shortened names need keepNames' defineProperty for every function at
   * load, and start slower even without), and with its map it zips smaller
   * (hello: 18.4 against 20.6 KB), as a map of shortened names lists them all.
   */
  shortenNames?: boolean;
  external: string[];
  /** 'esm' (default: functions, extensions) or 'cjs' (the vendor bundle of --snapshot). */
  format?: 'esm' | 'cjs';
  /** More plugins, after the kit's own. */
  plugins?: Plugin[];
}

interface EsbuildOutput {
  code: Buffer;
  /** The source map, its runtime paths made stable (see stableSourceMap). */
  map: Buffer | undefined;
  metafile: Metafile;
}

/**
 * One ESM file from a generated entry: the esbuild options functions and
 * extensions share, and the refusal of native addons in what got bundled.
 */
async function bundleEntry(run: EsbuildRun): Promise<EsbuildOutput> {
  const runtime = runtimeEntry();
  const findings: NativeFinding[] = [];
  const outfile = resolve(run.root, run.outName);
  let result;
  try {
    result = await build({
      stdin: { contents: run.contents, resolveDir: run.root, sourcefile: run.sourcefile, loader: 'js' },
      absWorkingDir: run.root,
      outfile,
      bundle: true,
      splitting: false,
      write: false,
      platform: 'node',
      format: run.format ?? 'esm',
      target: ESBUILD_TARGET,
      minifyWhitespace: run.minify,
      minifySyntax: run.minify,
      minifyIdentifiers: run.minify && (run.shortenNames ?? false),
      // Error names come from classes (`this.name = this.constructor.name`): keep them through renaming, which bundling
      // does too (two modules' `class ValidationError` cannot both keep the name).
      keepNames: true,
      sourcemap: run.sourcemap,
      sourcesContent: run.sourcesContent,
      // Built-ins (node:* and bare) are external on platform node; the externals too.
      external: run.external.flatMap((name) => [name, `${name}/*`]),
      // From source, the runtime's own imports resolve to .ts files.
      conditions: runtime.endsWith('.ts') ? ['lambda-kit-source'] : [],
      // ESM output needs a require for CommonJS dependencies; the CommonJS vendor bundle is given one.
      ...(run.format === 'cjs' ? { define: VENDOR_IMPORT_META } : { banner: { js: REQUIRE_BANNER } }),
      metafile: true,
      logLevel: 'silent',
      // The run's own plugins first: --snapshot's takes lambda-kit/runtime before the kit's plugin resolves it to a file.
      plugins: [...(run.plugins ?? []), kitPlugin(runtime, findings, run.root)],
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (findings.length > 0) throw nativeAddonError(findings[0]!.name, findings[0]!.evidence, run.arch, 'which a bundle cannot hold');
    throw new KitError(
      'LK_KIT_BUNDLE',
      `cannot bundle ${relative(run.root, run.entry)}:\n  ${errors ? formatMessages(errors) : (error as Error).message}`,
      { cause: error },
    );
  }

  // Native addons in what got bundled: found while resolving, or by looking at each bundled package.
  if (findings.length > 0) throw nativeAddonError(findings[0]!.name, findings[0]!.evidence, run.arch, 'which a bundle cannot hold');
  const checked = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    // Modules of plugins' own namespaces (--snapshot's stand-ins) are no files.
    if (/^[a-z][a-z-]*:/.test(input)) continue;
    const owner = packageOf(resolve(run.root, input));
    if (!owner || checked.has(owner.dir)) continue;
    checked.add(owner.dir);
    const evidence = nativeEvidence(owner.dir);
    if (evidence) throw nativeAddonError(owner.name, describeEvidence(evidence), run.arch, 'which a bundle cannot hold');
  }

  let code: Buffer | undefined;
  let map: Buffer | undefined;
  const produced: string[] = [];
  for (const output of result.outputFiles) {
    const path = relative(dirname(outfile), output.path).split(sep).join('/');
    produced.push(path);
    if (path === run.outName) code = Buffer.from(output.contents);
    else if (path === `${run.outName}.map`) map = stableSourceMap(Buffer.from(output.contents), dirname(outfile), dirname(runtime));
  }
  const expected = run.sourcemap ? [run.outName, `${run.outName}.map`] : [run.outName];
  if (produced.sort().join() !== expected.join()) {
    throw new KitError('LK_KIT_BUNDLE', `esbuild produced ${produced.join(', ')}; expected only ${expected.join(', ')}`);
  }
  return { code: code!, map, metafile: result.metafile };
}

export async function bundleFunction(options: BundleOptions): Promise<BundleResult> {
  const external = options.external ?? [];
  const vendorModules = new Map<string, VendorModule>();
  let output = await bundleIndex(options, options.snapshot ? vendorModules : undefined);
  // Only lambda-kit's own modules to hold: a snapshot of the runtime alone only costs (see build.ts), so index.mjs is the plain one.
  const packages = [...vendorModules.values()].filter((module) => module.package !== LAMBDA_KIT_PACKAGE);
  if (options.snapshot && packages.length === 0) output = await bundleIndex(options, undefined);
  const files: ArtifactFile[] = [{ path: 'index.mjs', data: output.code, mode: 0o644 }];
  if (output.map) files.push({ path: 'index.mjs.map', data: output.map, mode: 0o644 });
  if (external.length > 0) files.push(...externalFiles(placeExternals(external, dirname(options.entry), options.arch)));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const result: BundleResult = { files, metafile: output.metafile, bundleBytes: output.code.length };
  if (options.snapshot) {
    result.vendor =
      packages.length === 0
        ? { code: Buffer.alloc(0), modules: [], packages: [] }
        : await bundleVendor(evaluationOrder(output.metafile, '<lambda-kit entry>', vendorModules), options);
  }
  return result;
}

/**
 * --snapshot, once the snapshot is made: index.mjs (and its map) again, its
 * stand-ins for CommonJS modules exporting the names the snapshot found
 * (snapshot-bundle.ts), in place of the first build's.
 */
export async function rebundleSnapshotIndex(options: BundleOptions, bundle: BundleResult, exports: Record<string, string[]>): Promise<BundleResult> {
  const output = await bundleIndex(options, new Map(), exports);
  const index = new Map<string, Buffer | undefined>([['index.mjs', output.code], ['index.mjs.map', output.map]]);
  const files = bundle.files.map((file) => (index.has(file.path) ? { ...file, data: index.get(file.path)! } : file));
  return { ...bundle, files, metafile: output.metafile, bundleBytes: output.code.length };
}

/** index.mjs: the generated entry, the function and (unless `snapshotModules` is given, for --snapshot to fill) the runtime loop. */
function bundleIndex(options: BundleOptions, snapshotModules: Map<string, VendorModule> | undefined, exports?: Record<string, string[]>): Promise<EsbuildOutput> {
  const external = options.external ?? [];
  const sourcemap = options.sourcemap ?? true;
  return bundleEntry({
    root: options.root,
    entry: options.entry,
    arch: options.arch,
    // Specifiers that do not depend on where the kit or the project are, so maps come out the same anywhere.
    contents: generatedEntry('lambda-kit/runtime', projectRelative(options.root, options.entry), options.exportName, options.name, sourcemap),
    sourcefile: '<lambda-kit entry>',
    outName: 'index.mjs',
    sourcemap: sourcemap ? 'linked' : false,
    sourcesContent: options.sourcesContent ?? false,
    minify: options.minify ?? true,
    external,
    plugins: snapshotModules ? [snapshotPlugin({ root: options.root, external, modules: snapshotModules, exports })] : [],
  });
}

/**
 * --snapshot: one CommonJS file that loads every module index.mjs takes from
 * the snapshot, each through __lambdaKitSnapshotLoad(key, package, () => require(...)),
 * which the snapshot's build script (launcher/snapshot-launcher.cjs) provides,
 * in the order given (evaluationOrder's).
 */
export async function bundleVendor(modules: VendorModule[], options: Pick<BundleOptions, 'root' | 'entry' | 'arch' | 'external' | 'minify'>): Promise<VendorBundle> {
  const sorted = [...modules];
  const output = await bundleEntry({
    root: options.root,
    entry: options.entry,
    arch: options.arch,
    contents: vendorEntry(sorted),
    sourcefile: '<lambda-kit snapshot>',
    outName: 'vendor.cjs',
    sourcemap: false,
    sourcesContent: false,
    minify: options.minify ?? true,
    shortenNames: true,
    external: options.external ?? [],
    format: 'cjs',
  });
  const hasCommonJs = Object.values(output.metafile.inputs).some((input) => input.format === 'cjs');
  const code = Buffer.from(releaseModuleBodies(output.code.toString('utf8'), hasCommonJs), 'utf8');
  return { code, modules: sorted, packages: [...new Set(sorted.map((module) => module.package))].sort() };
}

/**
 * The snapshot's modules in the order a plain bundle would evaluate them: the
 * import graph from the entry, depth first, each import in source order, a
 * module after what it imports. A package whose load needs another's side
 * effect (reflect-metadata before class-validator) then loads after it, as
 * without --snapshot. Deterministic: the metafile lists imports in source order.
 */
export function evaluationOrder(metafile: Metafile, entry: string, modules: Map<string, VendorModule>): VendorModule[] {
  const ordered: VendorModule[] = [];
  const seen = new Set<string>();
  const visit = (input: string) => {
    if (seen.has(input)) return;
    seen.add(input);
    for (const imported of metafile.inputs[input]?.imports ?? []) visit(imported.path);
    const module = input.startsWith(`${SNAPSHOT_NAMESPACE}:`) ? modules.get(input.slice(SNAPSHOT_NAMESPACE.length + 1)) : undefined;
    if (module && !ordered.includes(module)) ordered.push(module);
  };
  visit(entry);
  // Not reached from the entry (never expected): after the rest, by key.
  const rest = [...modules.values()].filter((module) => !ordered.includes(module)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return [...ordered, ...rest];
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
  const output = await bundleEntry({
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
  return output;
}
