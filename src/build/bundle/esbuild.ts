/**
 * One esbuild run over a generated entry module: the options every bundle of
 * the build shares (functions, extensions, and whatever else drives bundle/
 * with plugins of its own), source maps that do not depend on where the kit
 * is installed, and the refusal of native addons in what got bundled.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildResult, type Message, type Metafile, type Plugin } from 'esbuild';
import type { Arch } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';
import { ADDON_LOADERS, describeEvidence, nativeAddonError, nativeEvidence, packageOf } from './packages.ts';

/** Node 22 is the oldest Node the runtime supports. */
const ESBUILD_TARGET = 'node22';

/**
 * CommonJS dependencies call require('node:...'): in an ESM file esbuild's
 * shim needs a `require` in scope. (esbuild never names its own symbols
 * `require`, so this cannot clash.) Made on first use, through
 * process.getBuiltinModule: an ESM import of node:module enumerates all its
 * exports and loads the worker machinery on every cold start, even for
 * functions that never require anything.
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
function runtimeEntry(): string {
  for (const candidate of ['../../../runtime/index.ts', '../../../../runtime/index.ts', '../../../runtime/index.js']) {
    const path = resolve(here, candidate);
    if (existsSync(path)) return path;
  }
  throw new KitError(
    'LK_KIT_RUNTIME_NOT_FOUND',
    `the lambda-kit runtime is not at ${resolve(here, '../../../runtime')}: reinstall lambda-kit`,
  );
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

export interface EntryBundleOptions {
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
   * Minify identifiers too: only for code that runs at build time (--snapshot's
   * vendor bundle, whose source stays in the snapshot's heap). Code a function
   * starts with keeps its names: shortened names need keepNames'
   * defineProperty for every function at load, start slower even without, and
   * make a bigger map, which then lists them all (see bench/README.md).
   */
  shortenNames?: boolean;
  external: string[];
  /** 'esm' (default: functions, extensions; given REQUIRE_BANNER) or 'cjs'. */
  format?: 'esm' | 'cjs';
  /** esbuild's `define`: expressions replaced at build time. */
  define?: Record<string, string>;
  /** Plugins of the caller: they run before the kit's own, so they may take a specifier (lambda-kit/runtime too) first. */
  plugins?: Plugin[];
}

export interface EntryBundle {
  code: Buffer;
  /** The source map, its runtime paths made stable (see stableSourceMap). */
  map: Buffer | undefined;
  metafile: Metafile;
}

/** One file from a generated entry, native addons in what got bundled refused. */
export async function bundleEntry(run: EntryBundleOptions): Promise<EntryBundle> {
  const runtime = runtimeEntry();
  const findings: NativeFinding[] = [];
  const outfile = resolve(run.root, run.outName);
  let result: BuildResult<{ metafile: true; write: false }>;
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
      // ESM output needs a require for CommonJS dependencies.
      ...(run.format === 'cjs' ? {} : { banner: { js: REQUIRE_BANNER } }),
      ...(run.define && { define: run.define }),
      metafile: true,
      logLevel: 'silent',
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
    // Modules of plugins' own namespaces are no files.
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
