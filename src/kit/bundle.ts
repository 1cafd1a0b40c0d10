/**
 * The function's code as one ESM file: esbuild bundles the user's handler and
 * the lambda-kit runtime loop into `index.mjs` (+ `index.mjs.map`). The
 * generated entry imports the handler lazily through runModule(), so errors
 * while loading or initialising the handler's module reach Lambda as init
 * errors; esbuild keeps that import inside the single file as a lazily
 * initialised module (no chunk files).
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Message, type Metafile, type Plugin } from 'esbuild';
import type { Arch } from './config.ts';
import { KitError } from './errors.ts';
import {
  ADDON_LOADERS,
  describeEvidence,
  externalFiles,
  nativeAddonError,
  nativeEvidence,
  packageOf,
  placeExternals,
  type ArtifactFile,
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
}

export interface BundleResult {
  /** index.mjs, index.mjs.map, node_modules/** of the externals: sorted by path. */
  files: ArtifactFile[];
  metafile: Metafile;
  /** Size of index.mjs. */
  bundleBytes: number;
}

/** Node 22 is the oldest Node the runtime supports. */
const ESBUILD_TARGET = 'node22';

/**
 * CommonJS dependencies call require('node:...'): in an ESM file esbuild's
 * shim needs a `require` in scope. (esbuild never names its own symbols
 * `require`, so this cannot clash.)
 */
const REQUIRE_BANNER = 'import{createRequire as __lambdaKitCreateRequire}from"node:module";const require=__lambdaKitCreateRequire(import.meta.url);';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The runtime loop's entry. Always its TypeScript sources where they are (in a
 * checkout, and in the package, which ships runtime/), so that a build from
 * source, from the installed kit or inside a builder image bundles the same
 * input and gives the same bytes; the compiled copy only as a last resort.
 */
export function runtimeEntry(): string {
  for (const candidate of ['../../runtime/index.ts', '../../../runtime/index.ts', '../../runtime/index.js']) {
    const path = resolve(here, candidate);
    if (existsSync(path)) return path;
  }
  throw new KitError('LK_KIT_RUNTIME_NOT_FOUND', `the lambda-kit runtime is not at ${resolve(here, '../../runtime')}: reinstall lambda-kit`);
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
export function generatedEntry(runtime: string, entry: string, exportName: string, name: string): string {
  return [
    `import { runModule } from ${JSON.stringify(runtime)};`,
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

export async function bundleFunction(options: BundleOptions): Promise<BundleResult> {
  const runtime = runtimeEntry();
  const external = options.external ?? [];
  const sourcemap = options.sourcemap ?? true;
  const findings: NativeFinding[] = [];
  const outfile = resolve(options.root, 'index.mjs');
  let result;
  try {
    result = await build({
      stdin: {
        // Specifiers that do not depend on where the kit or the project are, so maps come out the same anywhere.
        contents: generatedEntry('lambda-kit/runtime', projectRelative(options.root, options.entry), options.exportName, options.name),
        resolveDir: options.root,
        sourcefile: '<lambda-kit entry>',
        loader: 'js',
      },
      absWorkingDir: options.root,
      outfile,
      bundle: true,
      splitting: false,
      write: false,
      platform: 'node',
      format: 'esm',
      target: ESBUILD_TARGET,
      minify: options.minify ?? true,
      // Error names come from classes (`this.name = this.constructor.name`): keep them through minification.
      keepNames: true,
      sourcemap: sourcemap ? 'linked' : false,
      sourcesContent: options.sourcesContent ?? false,
      // Built-ins (node:* and bare) are external on platform node; the externals too.
      external: external.flatMap((name) => [name, `${name}/*`]),
      // From source, the runtime's own imports resolve to .ts files.
      conditions: runtime.endsWith('.ts') ? ['lambda-kit-source'] : [],
      banner: { js: REQUIRE_BANNER },
      metafile: true,
      logLevel: 'silent',
      plugins: [kitPlugin(runtime, findings, options.root)],
    });
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors;
    if (findings.length > 0) throw nativeAddonError(findings[0]!.name, findings[0]!.evidence, options.arch, 'which a bundle cannot hold');
    throw new KitError(
      'LK_KIT_BUNDLE',
      `cannot bundle ${relative(options.root, options.entry)}:\n  ${errors ? formatMessages(errors) : (error as Error).message}`,
      { cause: error },
    );
  }

  // Native addons in what got bundled: found while resolving, or by looking at each bundled package.
  if (findings.length > 0) throw nativeAddonError(findings[0]!.name, findings[0]!.evidence, options.arch, 'which a bundle cannot hold');
  const checked = new Set<string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const owner = packageOf(resolve(options.root, input));
    if (!owner || checked.has(owner.dir)) continue;
    checked.add(owner.dir);
    const evidence = nativeEvidence(owner.dir);
    if (evidence) throw nativeAddonError(owner.name, describeEvidence(evidence), options.arch, 'which a bundle cannot hold');
  }

  const files: ArtifactFile[] = [];
  let bundleBytes = 0;
  for (const output of result.outputFiles) {
    const path = relative(dirname(outfile), output.path).split(sep).join('/');
    let data: Buffer = Buffer.from(output.contents);
    if (path === 'index.mjs.map') data = stableSourceMap(data, dirname(outfile), dirname(runtime));
    if (path === 'index.mjs') bundleBytes = data.length;
    files.push({ path, data, mode: 0o644 });
  }
  const expected = sourcemap ? ['index.mjs', 'index.mjs.map'] : ['index.mjs'];
  const produced = files.map((file) => file.path).sort();
  if (produced.join() !== expected.join()) {
    throw new KitError('LK_KIT_BUNDLE', `esbuild produced ${produced.join(', ')}; expected only ${expected.join(', ')}`);
  }
  if (external.length > 0) files.push(...externalFiles(placeExternals(external, dirname(options.entry), options.arch)));
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, metafile: result.metafile, bundleBytes };
}
