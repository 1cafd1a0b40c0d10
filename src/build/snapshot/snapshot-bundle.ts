/**
 * --snapshot, the bundling side: which modules go into the snapshot, the
 * stand-ins index.mjs gets for them, and the entry of the vendor bundle the
 * snapshot evaluates at build time (snapshot.ts makes the snapshot itself).
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
import { build, type Plugin } from 'esbuild';
import { packageOf } from '../bundle/packages.ts';

/** Where index.mjs finds the snapshot's modules: globalThis[Symbol.for(SNAPSHOT_TABLE)][key]. */
export const SNAPSHOT_TABLE = 'lambda-kit.snapshot';
/** The package name of lambda-kit's own modules in a VendorModule. */
export const LAMBDA_KIT_PACKAGE = 'lambda-kit';
/** The namespace of index.mjs's stand-ins: metafile inputs `lambda-kit-snapshot:<key>`. */
export const SNAPSHOT_NAMESPACE = 'lambda-kit-snapshot';
const NAMESPACE = SNAPSHOT_NAMESPACE;
const CJS_NAMESPACE = 'lambda-kit-snapshot-cjs';

export interface VendorModule {
  /** The module's path relative to the project root, with forward slashes: its key in the snapshot's table. */
  key: string;
  /** Its package's name (for messages). */
  package: string;
  /** How esbuild reads the file: an ESM stand-in re-exports it, a CommonJS one is its module.exports. */
  format: 'esm' | 'cjs';
  /** What the vendor bundle requires to load it: `./<key>` unless given (lambda-kit's modules: their specifier). */
  specifier?: string;
}

export interface VendorBundle {
  /** vendor.cjs: the modules index.mjs takes from the snapshot, and everything they import. */
  code: Buffer;
  /** In the order they are loaded (a plain bundle's evaluation order). */
  modules: VendorModule[];
  /** The packages of `modules`, sorted. */
  packages: string[];
}

/**
 * import.meta in the CommonJS vendor bundle: what index.mjs would see under
 * Lambda (/var/task). Only code run at build time reads it there.
 */
export const VENDOR_IMPORT_META: Record<string, string> = {
  'import.meta.url': JSON.stringify('file:///var/task/index.mjs'),
  'import.meta.filename': JSON.stringify('/var/task/index.mjs'),
  'import.meta.dirname': JSON.stringify('/var/task'),
};

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

export interface SnapshotPluginOptions {
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
 * the function imports, and a start copies none of the rest (the DynamoDB
 * client has about 600).
 */
function namedStandIn(module: VendorModule, names: string[]): string {
  const exported = names.filter((name) => name !== 'default');
  const reads = exported.map((name, i) => `const e${i} = /* @__PURE__ */ (() => m[${JSON.stringify(name)}])();\n`).join('');
  const list = exported.map((name, i) => `e${i} as ${JSON.stringify(name)}`).join(', ');
  return `const m = ${lookup(module.key, module.package)};\n${reads}export { ${list} };\nexport default m;\n`;
}

export function snapshotPlugin(options: SnapshotPluginOptions): Plugin {
  const formats = new Map<string, Promise<'esm' | 'cjs'>>();
  return {
    name: 'lambda-kit-snapshot',
    setup(pluginBuild) {
      // Is a file ESM or CommonJS to esbuild? Its metafile says, from one file alone (no bundling).
      const formatOf = (path: string) => {
        let format = formats.get(path);
        if (!format) {
          format = build({ entryPoints: [path], bundle: false, write: false, metafile: true, logLevel: 'silent', absWorkingDir: options.root, outdir: options.root }).then(
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
        if (resolved.errors.length > 0 || resolved.external || resolved.namespace !== 'file' || !inNodeModules(resolved.path)) return undefined;
        const key = relative(options.root, resolved.path).split(sep).join('/');
        const name = packageOf(resolved.path)?.name ?? specifier;
        if (!options.modules.has(key)) options.modules.set(key, { key, package: name, format: await formatOf(resolved.path) });
        return { path: key, namespace: NAMESPACE, sideEffects: true };
      });
      pluginBuild.onResolve({ filter: /.*/, namespace: NAMESPACE }, (args) => ({ path: args.path.replace(/^cjs:/, ''), namespace: CJS_NAMESPACE }));
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

/** The vendor bundle's entry: each module loaded through the build script's __lambdaKitSnapshotLoad, in the order given. */
export function vendorEntry(modules: VendorModule[]): string {
  return modules
    .map(
      (module) =>
        `__lambdaKitSnapshotLoad(${JSON.stringify(module.key)}, ${JSON.stringify(module.package)}, () => require(${JSON.stringify(module.specifier ?? `./${module.key}`)}));\n`,
    )
    .join('');
}

/**
 * esbuild's CommonJS wrapper (its __commonJS helper), as the vendor bundle's
 * options write it (identifiers shortened): `(body, module) => () => ...`. It
 * keeps each module's body function for as long as the module can be
 * required, so that a body that threw runs again on the next require; and
 * what a function keeps reachable goes into the snapshot with it: every
 * CommonJS module's body, compiled, which runs once, at build time.
 */
const COMMONJS_WRAPPER =
  /=\(([\w$]+),([\w$]+)\)=>\(\)=>\{try\{return \2\|\|\1\(\(\2=\{exports:\{\}\}\)\.exports,\2\),\2\.exports\}catch\(([\w$]+)\)\{throw \2=0,\3\}\}/;

/**
 * The vendor bundle with esbuild's CommonJS wrapper letting go of a module's
 * body once it has run to the end (a body that threw is kept, to run again,
 * as before), for the snapshot to hold none of them: measured on the AWS
 * SDK's DynamoDB client (bench/fixtures/heavy), 370 KB less to deserialise at
 * every start (V8's isolate part: 2.92 against 2.55 MB), 1.3 ms sooner.
 * esbuild writes its helpers ahead of any module, so the first match is its
 * own whenever the bundle holds a CommonJS module; a bundle without any is
 * left as it is, and so is one whose wrapper reads otherwise (another
 * esbuild), which then only keeps more.
 */
export function releaseModuleBodies(code: string, hasCommonJs: boolean): string {
  if (!hasCommonJs) return code;
  return code.replace(
    COMMONJS_WRAPPER,
    (_, body: string, module: string, error: string) =>
      `=(${body},${module})=>()=>{try{return ${module}||(${body}((${module}={exports:{}}).exports,${module}),${body}=0),${module}.exports}catch(${error}){throw ${module}=0,${error}}}`,
  );
}
