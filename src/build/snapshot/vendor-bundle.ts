/**
 * --snapshot's vendor bundle: one CommonJS file that loads every module
 * index.mjs takes from the snapshot, each through
 * __lambdaKitSnapshotLoad(key, package, () => require(...)), which the
 * snapshot's build script (launcher/snapshot-launcher.cjs) provides. It runs
 * once, at build time, and what it leaves in the heap is the snapshot.
 */
import { bundleEntry } from '../bundle/esbuild.ts';
import type { BundleOptions } from '../bundle/bundle.ts';

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
const VENDOR_IMPORT_META: Record<string, string> = {
  'import.meta.url': JSON.stringify('file:///var/task/index.mjs'),
  'import.meta.filename': JSON.stringify('/var/task/index.mjs'),
  'import.meta.dirname': JSON.stringify('/var/task'),
};

/** The vendor bundle's entry: each module loaded through the build script's __lambdaKitSnapshotLoad, in the order given. */
function vendorEntry(modules: VendorModule[]): string {
  return modules
    .map(
      (module) =>
        `__lambdaKitSnapshotLoad(${JSON.stringify(module.key)}, ${JSON.stringify(module.package)}, () => require(${JSON.stringify(module.specifier ?? `./${module.key}`)}));\n`,
    )
    .join('');
}

/** vendor.cjs of `modules`, loaded in the order given (evaluationOrder's), their names shortened: its code runs at build time only. */
export async function bundleVendor(
  modules: VendorModule[],
  options: Pick<BundleOptions, 'root' | 'entry' | 'arch' | 'external' | 'minify'>,
): Promise<VendorBundle> {
  const output = await bundleEntry({
    root: options.root,
    entry: options.entry,
    arch: options.arch,
    contents: vendorEntry(modules),
    sourcefile: '<lambda-kit snapshot>',
    outName: 'vendor.cjs',
    sourcemap: false,
    sourcesContent: false,
    minify: options.minify ?? true,
    shortenNames: true,
    external: options.external ?? [],
    format: 'cjs',
    define: VENDOR_IMPORT_META,
  });
  const hasCommonJs = Object.values(output.metafile.inputs).some((input) => input.format === 'cjs');
  const code = Buffer.from(releaseModuleBodies(output.code.toString('utf8'), hasCommonJs), 'utf8');
  return { code, modules: [...modules], packages: [...new Set(modules.map((module) => module.package))].sort() };
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
 * as esbuild's own wrapper does), for the snapshot to hold none of them: less
 * to deserialise at every start (see bench/README.md for the AWS SDK's
 * DynamoDB client, bench/fixtures/heavy). esbuild writes its helpers ahead of any module, so
 * the first match is its own whenever the bundle holds a CommonJS module; a
 * bundle without any is left as it is, and so is one whose wrapper reads
 * otherwise (another esbuild), which then only keeps more.
 */
function releaseModuleBodies(code: string, hasCommonJs: boolean): string {
  if (!hasCommonJs) return code;
  return code.replace(
    COMMONJS_WRAPPER,
    (_, body: string, module: string, error: string) =>
      `=(${body},${module})=>()=>{try{return ${module}||(${body}((${module}={exports:{}}).exports,${module}),${body}=0),${module}.exports}catch(${error}){throw ${module}=0,${error}}}`,
  );
}
