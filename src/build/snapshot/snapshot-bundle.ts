/**
 * --snapshot, the bundling side: which modules go into the snapshot, the
 * stand-ins index.mjs gets for them (an esbuild plugin given to bundle/), and
 * the vendor bundle the snapshot evaluates at build time (vendor-bundle.ts;
 * snapshot.ts makes the snapshot itself).
 *
 * A bare import in the function's own code (not in node_modules) that
 * resolves into node_modules, and is neither a built-in nor an --external,
 * becomes a module of its own namespace in index.mjs, which reads the module
 * already evaluated in the snapshot:
 *
 *   CommonJS:  module.exports = globalThis[Symbol.for('lambda-kit.snapshot')][key]
 *   ESM:       export * from <that, as CommonJS>; export default <its default>
 *
 * so esbuild's interop gives importers what it gives them in a plain bundle.
 * Once the snapshot is made, index.mjs is bundled again, and a CommonJS
 * module's stand-in exports by name the names the snapshot found on it
 * (namedStandIn below).
 * The key is the module's path relative to the project root: one module
 * object however many specifiers reach it, and no build machine paths.
 *
 * lambda-kit's own modules (the runtime loop the entry starts, and
 * lambda-kit/http, /events, ... that the function imports) go the same way,
 * keyed by their specifier: all of them or none, so that the function and
 * the runtime share one copy (one set of classes and symbols). index.mjs is
 * then the function's own code alone, which is what a start compiles and
 * source-maps. They read nothing from the environment while loading.
 */
import { isBuiltin } from 'node:module';
import { relative, resolve, sep } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';
import { bundleFunction, FUNCTION_ENTRY, rebundleIndex, type BundleOptions, type BundleResult } from '../bundle/bundle.ts';
import { packageOf } from '../bundle/packages.ts';
import { bundleVendor, type VendorBundle, type VendorModule } from './vendor-bundle.ts';

/** Where index.mjs finds the snapshot's modules: globalThis[Symbol.for(SNAPSHOT_TABLE)][key]. */
const SNAPSHOT_TABLE = 'lambda-kit.snapshot';
/** The package name of lambda-kit's own modules in a VendorModule. */
const LAMBDA_KIT_PACKAGE = 'lambda-kit';
/** The namespace of index.mjs's stand-ins: metafile inputs `lambda-kit-snapshot:<key>`. */
const NAMESPACE = 'lambda-kit-snapshot';
const CJS_NAMESPACE = 'lambda-kit-snapshot-cjs';

function isExternal(specifier: string, external: string[]): boolean {
  return external.some((name) => specifier === name || specifier.startsWith(`${name}/`));
}

function inNodeModules(path: string): boolean {
  return resolve(path).split(sep).includes('node_modules');
}

/** The stand-in's lookup, with a message for index.mjs run without its snapshot. */
function lookup(key: string, name: string): string {
  return (
    `(globalThis[Symbol.for(${JSON.stringify(SNAPSHOT_TABLE)})] ?? (() => { throw new Error(` +
    JSON.stringify(`this index.mjs was built with --snapshot: ${name} is in its bootstrap's snapshot, so run it with that bootstrap`) +
    `); })())[${JSON.stringify(key)}]`
  );
}

interface SnapshotPluginOptions {
  /** The project's root: keys are relative to it. */
  root: string;
  external: string[];
  /** Filled with what the snapshot is to hold, by key. */
  modules: Map<string, VendorModule>;
  /**
   * Once the snapshot is made: the own property names of its modules, by key
   * (SnapshotBootstrap.exports). A CommonJS module's stand-in then exports
   * them by name, so esbuild's interop copies nothing at start.
   */
  exports?: Record<string, string[]>;
}

/**
 * A CommonJS module's stand-in that exports its names: each a value read once
 * at start, as Node's own import of CommonJS gives it (not a live getter, as
 * esbuild's interop does). Each read is marked pure: esbuild keeps only those
 * the function imports, and a start copies none of the rest (a client of the
 * AWS SDK has hundreds).
 */
function namedStandIn(module: VendorModule, names: string[]): string {
  const exported = names.filter((name) => name !== 'default');
  const reads = exported.map((name, i) => `const e${i} = /* @__PURE__ */ (() => m[${JSON.stringify(name)}])();\n`).join('');
  const list = exported.map((name, i) => `e${i} as ${JSON.stringify(name)}`).join(', ');
  return `const m = ${lookup(module.key, module.package)};\n${reads}export { ${list} };\nexport default m;\n`;
}

function snapshotPlugin(options: SnapshotPluginOptions): Plugin {
  const formats = new Map<string, Promise<'esm' | 'cjs'>>();
  return {
    name: 'lambda-kit-snapshot',
    setup(pluginBuild) {
      // Is a file ESM or CommonJS to esbuild? Its metafile says, from one file alone (no bundling).
      const formatOf = (path: string) => {
        let format = formats.get(path);
        if (!format) {
          format = build({
            entryPoints: [path],
            bundle: false,
            write: false,
            metafile: true,
            logLevel: 'silent',
            absWorkingDir: options.root,
            outdir: options.root,
          }).then(
            (result) => (Object.values(result.metafile.inputs).some((input) => input.format === 'esm') ? 'esm' : 'cjs'),
            () => 'cjs' as const,
          );
          formats.set(path, format);
        }
        return format;
      };

      pluginBuild.onResolve({ filter: /^lambda-kit(\/|$)/ }, (args) => {
        if (args.namespace !== 'file' || args.pluginData?.lambdaKitSnapshot || isExternal(args.path, options.external)) return undefined;
        // From the entry and the function's code; lambda-kit's own files import each other by relative paths.
        const key = args.path;
        if (!options.modules.has(key)) options.modules.set(key, { key, package: LAMBDA_KIT_PACKAGE, format: 'esm', specifier: key });
        return { path: key, namespace: NAMESPACE, sideEffects: true };
      });
      pluginBuild.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.namespace !== 'file' || args.kind === 'entry-point' || args.pluginData?.lambdaKitSnapshot) return undefined;
        const specifier = args.path;
        if (isBuiltin(specifier) || isExternal(specifier, options.external)) return undefined;
        // Imports inside packages stay inside the vendor bundle.
        if (inNodeModules(args.importer)) return undefined;
        const resolved = await pluginBuild.resolve(specifier, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: { lambdaKitSnapshot: true },
        });
        // Errors are esbuild's to report, as in any build; a workspace package (a link out of node_modules) is the project's own code.
        if (resolved.errors.length > 0 || resolved.external || resolved.namespace !== 'file' || !inNodeModules(resolved.path))
          return undefined;
        const key = relative(options.root, resolved.path).split(sep).join('/');
        const name = packageOf(resolved.path)?.name ?? specifier;
        if (!options.modules.has(key)) options.modules.set(key, { key, package: name, format: await formatOf(resolved.path) });
        return { path: key, namespace: NAMESPACE, sideEffects: true };
      });
      pluginBuild.onResolve({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        path: args.path.replace(/^cjs:/, ''),
        namespace: CJS_NAMESPACE,
      }));
      pluginBuild.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => {
        const module = options.modules.get(args.path)!;
        const names = options.exports?.[module.key];
        if (module.format === 'cjs' && names) return { contents: namedStandIn(module, names), loader: 'js' };
        if (module.format === 'cjs') return { contents: `module.exports = ${lookup(module.key, module.package)};\n`, loader: 'js' };
        return {
          contents: `export * from ${JSON.stringify(`cjs:${module.key}`)};\nexport default ${lookup(module.key, module.package)}.default;\n`,
          loader: 'js',
        };
      });
      pluginBuild.onLoad({ filter: /.*/, namespace: CJS_NAMESPACE }, (args) => {
        const module = options.modules.get(args.path)!;
        return { contents: `module.exports = ${lookup(module.key, module.package)};\n`, loader: 'js' };
      });
    },
  };
}

/**
 * The snapshot's modules in the order a plain bundle would evaluate them: the
 * import graph from the entry, depth first, each import in source order, a
 * module after what it imports. A package whose load needs another's side
 * effect (reflect-metadata before class-validator) then loads after it, as
 * without --snapshot. Deterministic: the metafile lists imports in source order.
 */
function evaluationOrder(metafile: Metafile, entry: string, modules: Map<string, VendorModule>): VendorModule[] {
  const ordered: VendorModule[] = [];
  const seen = new Set<string>();
  const visit = (input: string) => {
    if (seen.has(input)) return;
    seen.add(input);
    for (const imported of metafile.inputs[input]?.imports ?? []) visit(imported.path);
    const module = input.startsWith(`${NAMESPACE}:`) ? modules.get(input.slice(NAMESPACE.length + 1)) : undefined;
    if (module && !ordered.includes(module)) ordered.push(module);
  };
  visit(entry);
  // Not reached from the entry (never expected): after the rest, by key.
  const rest = [...modules.values()]
    .filter((module) => !ordered.includes(module))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return [...ordered, ...rest];
}

export interface SnapshotBundle {
  /** index.mjs, its packages read from the snapshot, and the externals (bundleFunction's files). */
  bundle: BundleResult;
  /** What the snapshot is to hold: no modules when the function imports no packages (index.mjs is then the plain one). */
  vendor: VendorBundle;
}

/** The function bundled for --snapshot: index.mjs with stand-ins, and the vendor bundle they read from. */
export async function bundleForSnapshot(options: BundleOptions): Promise<SnapshotBundle> {
  const modules = new Map<string, VendorModule>();
  const bundle = await bundleFunction({
    ...options,
    plugins: [snapshotPlugin({ root: options.root, external: options.external ?? [], modules })],
  });
  // Only lambda-kit's own modules to hold: a snapshot of the runtime alone only costs (see build.ts), so index.mjs is the plain one.
  if ([...modules.values()].every((module) => module.package === LAMBDA_KIT_PACKAGE)) {
    return { bundle: await rebundleIndex(options, bundle), vendor: { code: Buffer.alloc(0), modules: [], packages: [] } };
  }
  return { bundle, vendor: await bundleVendor(evaluationOrder(bundle.metafile, FUNCTION_ENTRY, modules), options) };
}

/**
 * Once the snapshot is made: index.mjs (and its map) again, its stand-ins for
 * CommonJS modules exporting the names the snapshot found (`exports`, by key),
 * in place of the first build's.
 */
export function rebundleWithExports(
  options: BundleOptions,
  bundle: BundleResult,
  exports: Record<string, string[]>,
): Promise<BundleResult> {
  return rebundleIndex(
    { ...options, plugins: [snapshotPlugin({ root: options.root, external: options.external ?? [], modules: new Map(), exports })] },
    bundle,
  );
}
