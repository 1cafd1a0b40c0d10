/**
 * `lambda-kit build`: config → bundle → artifacts, for each function, and a
 * layer zip for each extension. Everything that can be wrong with the input
 * (config, entries, options, formats, native addons) is found before the slow
 * part (the Node runtime).
 */
import { homedir } from 'node:os';
import { extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCodeCache } from './code-cache/code-cache.ts';
import { bundleExtension, bundleFunction, bundleVendor, rebundleSnapshotIndex, type BundleOptions, type BundleResult, type ExtensionBundle } from './bundle/bundle.ts';
import { resolveProject, type BuildOverrides, type ResolvedFunction, type ResolvedProject } from './project/resolve.ts';
import { KitError } from './errors.ts';
import { writeExtensionLayer, type ExtensionNodeBuilder } from './artifacts/extension-layer.ts';
import { buildNodeRuntime, type NodeRuntime, type NodeRuntimeBuilder, type NodeRuntimeRoot } from './node/node-runtime.ts';
import { buildExtensionNode } from './node/node-with-glibc.ts';
import { formats, sizeOf, type Artifact } from './artifacts/formats.ts';
import { makeSnapshotBootstrap } from './snapshot/snapshot.ts';

export interface BuildOptions {
  cwd?: string;
  /** A function or extension name, or an entry file; everything in the config when absent. */
  selector?: string;
  configFile?: string;
  overrides?: BuildOverrides;
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
  /** The Node runtime builder; src/build/node/node-runtime.ts by default. */
  nodeRuntime?: NodeRuntimeBuilder;
  /** The Node of extension layers; buildExtensionNode (src/build/node/node-runtime.ts) by default. */
  extensionNode?: ExtensionNodeBuilder;
  /** Where built Node runtimes are cached. */
  cacheDir?: string;
}

export interface BuildResult {
  project: ResolvedProject;
  artifacts: Artifact[];
}

export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LAMBDA_KIT_CACHE_DIR) return env.LAMBDA_KIT_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'lambda-kit');
}

/** Refuses formats the build does not know, saying where the format came from. */
export function checkFormat(fn: ResolvedFunction): void {
  if (Object.hasOwn(formats, fn.format)) return;
  throw new KitError(
    'LK_KIT_UNKNOWN_FORMAT',
    `unknown format "${fn.format}" (${fn.formatOrigin}, function "${fn.name}"): this lambda-kit builds ${Object.keys(formats).join(', ')}`,
  );
}

/**
 * --snapshot puts the snapshot into the function's own bootstrap: a layout
 * whose bootstrap is the shared Node layer in /opt cannot have one. With
 * --code-cache it is refused too: the cache would cover index.mjs alone (the
 * packages' code is in the snapshot), and made no measurable difference
 * (heavy handler: 56.5 ms with --snapshot, 58.9 ms with both; another run
 * 62.8 and 61.1), while it runs the function's init at build time, which
 * --snapshot is careful not to.
 */
export function checkSnapshot(fn: ResolvedFunction): void {
  if (!fn.snapshot) return;
  if (fn.layout === 'thin') {
    throw new KitError(
      'LK_KIT_SNAPSHOT_OPTIONS',
      `function "${fn.name}": --snapshot puts the packages it imports into its own bootstrap, and the thin layout's bootstrap ` +
        'is the Node runtime layer in /opt, shared by functions: build it --layout self-contained (or --format image), or without --snapshot',
    );
  }
  if (fn.codeCache) {
    throw new KitError(
      'LK_KIT_SNAPSHOT_OPTIONS',
      `function "${fn.name}": --snapshot and --code-cache do not go together: the snapshot already holds the packages' code, and a ` +
        'code cache of index.mjs alone gains nothing measurable while it runs your init at build time. Choose one (--snapshot is the faster)',
    );
  }
}

/** What the kit bundles a function with: the same for the first build of index.mjs and, with --snapshot, the one after the snapshot. */
function bundleOptions(fn: ResolvedFunction, root: string): BundleOptions {
  return {
    name: fn.name,
    entry: fn.entry,
    exportName: fn.exportName,
    root,
    arch: fn.arch,
    external: fn.external,
    sourcemap: fn.sourcemap,
    sourcesContent: fn.sourcesContent,
    minify: fn.minify,
    snapshot: fn.snapshot,
  };
}

export async function buildProject(options: BuildOptions = {}): Promise<BuildResult> {
  const log = options.log ?? (() => {});
  const cwd = options.cwd ?? process.cwd();
  const project = await resolveProject({
    cwd,
    ...(options.selector !== undefined && { selector: options.selector }),
    ...(options.configFile !== undefined && { configFile: options.configFile }),
    ...(options.overrides !== undefined && { overrides: options.overrides }),
  });
  project.functions.forEach(checkFormat);
  project.functions.forEach(checkSnapshot);

  // Bundle everything first: bad code and native addons fail the build before anything is written.
  const bundles = new Map<string, BundleResult>();
  for (const fn of project.functions) {
    const started = Date.now();
    const bundle = await bundleFunction(bundleOptions(fn, project.root));
    bundles.set(fn.name, bundle);
    const externals = bundle.files.filter((file) => file.path.startsWith('node_modules/')).length;
    log(
      `${fn.name}: bundled ${relative(cwd, fn.entry) || fn.entry} into index.mjs (${sizeOf(bundle.bundleBytes)}` +
        `${externals > 0 ? `, ${externals} files of externals` : ''}` +
        `${bundle.vendor ? `; ${bundle.vendor.packages.length} package(s) for the snapshot, ${sizeOf(bundle.vendor.code.length)}` : ''}) in ${Date.now() - started} ms`,
    );
  }

  const extensionBundles = new Map<string, ExtensionBundle>();
  for (const extension of project.extensions) {
    const started = Date.now();
    const bundle = await bundleExtension({ ...extension, root: project.root });
    extensionBundles.set(extension.name, bundle);
    log(`${extension.name}: bundled ${relative(cwd, extension.entry) || extension.entry} into extensions/${extension.name} (${sizeOf(bundle.code.length)}) in ${Date.now() - started} ms`);
  }

  // Each Node runtime is built once per build (and cached across builds by the builder).
  const runtimes = new Map<string, Promise<NodeRuntime>>();
  let builder: NodeRuntimeBuilder | undefined = options.nodeRuntime;
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  // Deflating Node is most of a build's time; its deflated form is the same in every build.
  const deflateCache = join(cacheDir, 'deflate');
  const artifacts: Artifact[] = [];
  for (const fn of project.functions) {
    const started = Date.now();
    const sharedRuntime = async (root: NodeRuntimeRoot) => {
      const key = `${fn.arch}/${fn.nodeMajor}/${root}`;
      let runtime = runtimes.get(key);
      if (!runtime) {
        builder ??= buildNodeRuntime;
        runtime = builder({ arch: fn.arch, nodeMajor: fn.nodeMajor, root, cacheDir, log: (line) => log(`node runtime: ${line}`) });
        runtimes.set(key, runtime);
      }
      return runtime;
    };
    let nodeRuntime = sharedRuntime;
    let bundle = bundles.get(fn.name)!;
    if (fn.snapshot && bundle.vendor!.modules.length === 0) {
      // A snapshot of nothing only costs: a user-land snapshot starts about 5 ms later than Node's own.
      log(`${fn.name}: --snapshot: it imports no packages from node_modules, so there is nothing to snapshot; built without`);
    } else if (fn.snapshot) {
      // The function's own bootstrap (checkSnapshot: never the thin layout's /opt one, never with a code cache); lib/ as shared.
      const shared = await sharedRuntime('/var/task');
      const vendor = bundle.vendor!;
      const { bootstrap, exports } = await makeSnapshotBootstrap({
        name: fn.name,
        arch: fn.arch,
        nodeVersion: shared.nodeVersion,
        cacheDir,
        vendor,
        rebundle: (modules) =>
          bundleVendor(modules, { root: project.root, entry: fn.entry, arch: fn.arch, external: fn.external, minify: fn.minify }),
        log,
      });
      const own: NodeRuntime = { nodeVersion: shared.nodeVersion, files: shared.files.map((file) => (file.path === 'bootstrap' ? bootstrap : file)) };
      bundle = await rebundleSnapshotIndex(bundleOptions(fn, project.root), bundle, exports);
      nodeRuntime = async (root) => (root === '/var/task' ? own : sharedRuntime(root));
    }
    if (fn.codeCache) {
      const cache = await makeCodeCache({ name: fn.name, runtimeFiles: (await nodeRuntime('/var/task')).files, bundleFiles: bundle.files, log });
      bundle = { ...bundle, files: [...bundle.files, ...cache] };
    }
    artifacts.push(...(await formats[fn.format]!({ fn, bundle, out: project.out, nodeRuntime, deflateCache, log })));
    log(`${fn.name}: done in ${Date.now() - started} ms`);
  }

  // One Node per arch and major serves every extension layer of the build.
  const extensionNodes = new Map<string, Promise<NodeRuntime>>();
  for (const extension of project.extensions) {
    const started = Date.now();
    const key = `${extension.arch}/${extension.nodeMajor}`;
    let node = extensionNodes.get(key);
    if (!node) {
      node = (options.extensionNode ?? buildExtensionNode)({
        arch: extension.arch,
        nodeMajor: extension.nodeMajor,
        cacheDir,
        log: (line) => log(`extension node: ${line}`),
      });
      extensionNodes.set(key, node);
    }
    artifacts.push(
      await writeExtensionLayer({ extension, bundle: extensionBundles.get(extension.name)!, out: project.out, node: await node, deflateCache, log }),
    );
    log(`${extension.name}: done in ${Date.now() - started} ms`);
  }
  return { project, artifacts };
}
