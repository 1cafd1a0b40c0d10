/**
 * `lambda-kit build`: config → bundle → artifacts, for each function, and a
 * layer zip for each extension. Everything that can be wrong with the input
 * (config, entries, options, formats, native addons) is found before the slow
 * part (the Node runtime).
 */
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { writeExtensionLayer } from './artifacts/extension-layer.ts';
import { formats, sizeOf, type Artifact } from './artifacts/formats.ts';
import { bundleExtension, bundleFunction, type BundleOptions, type BundleResult, type ExtensionBundle } from './bundle/bundle.ts';
import { makeCodeCache } from './code-cache/code-cache.ts';
import { KitError } from './errors.ts';
import { buildNodeRuntime, type NodeRuntime, type NodeRuntimeBuilder, type NodeRuntimeRoot } from './node/node-runtime.ts';
import { buildExtensionNode, type ExtensionNodeBuilder } from './node/node-with-glibc.ts';
import { resolveProject, type BuildOverrides, type ResolvedFunction, type ResolvedProject } from './project/resolve.ts';
import { checkSnapshot, snapshotFunction } from './snapshot/snapshot.ts';
import { bundleForSnapshot, type SnapshotBundle } from './snapshot/snapshot-bundle.ts';

export interface BuildOptions {
  cwd?: string;
  /** A function or extension name, or an entry file; everything in the config when absent. */
  selector?: string;
  configFile?: string;
  overrides?: BuildOverrides;
  /** Progress lines (the CLI prints them on stderr). */
  log?: (line: string) => void;
  /** The Node runtime builder; buildNodeRuntime by default. */
  nodeRuntime?: NodeRuntimeBuilder;
  /** The Node of extension layers; buildExtensionNode by default. */
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
function checkFormat(fn: ResolvedFunction): void {
  if (Object.hasOwn(formats, fn.format)) return;
  throw new KitError(
    'LK_KIT_UNKNOWN_FORMAT',
    `unknown format "${fn.format}" (${fn.formatOrigin}, function "${fn.name}"): this lambda-kit builds ${Object.keys(formats).join(', ')}`,
  );
}

/** What the kit bundles a function with: the same for the first build of index.mjs and, with --snapshot, the ones after it. */
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
  const snapshots = new Map<string, SnapshotBundle>();
  for (const fn of project.functions) {
    const started = Date.now();
    const snapshot = fn.snapshot ? await bundleForSnapshot(bundleOptions(fn, project.root)) : undefined;
    const bundle = snapshot?.bundle ?? (await bundleFunction(bundleOptions(fn, project.root)));
    bundles.set(fn.name, bundle);
    if (snapshot) snapshots.set(fn.name, snapshot);
    const externals = bundle.files.filter((file) => file.path.startsWith('node_modules/')).length;
    log(
      `${fn.name}: bundled ${relative(cwd, fn.entry) || fn.entry} into index.mjs (${sizeOf(bundle.bundleBytes)}` +
        `${externals > 0 ? `, ${externals} files of externals` : ''}` +
        `${snapshot ? `; ${snapshot.vendor.packages.length} package(s) for the snapshot, ${sizeOf(snapshot.vendor.code.length)}` : ''}) in ${Date.now() - started} ms`,
    );
  }

  const extensionBundles = new Map<string, ExtensionBundle>();
  for (const extension of project.extensions) {
    const started = Date.now();
    const bundle = await bundleExtension({ ...extension, root: project.root });
    extensionBundles.set(extension.name, bundle);
    log(
      `${extension.name}: bundled ${relative(cwd, extension.entry) || extension.entry} into extensions/${extension.name} (${sizeOf(bundle.code.length)}) in ${Date.now() - started} ms`,
    );
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
    const snapshot = snapshots.get(fn.name);
    if (snapshot && snapshot.vendor.modules.length === 0) {
      // A snapshot of nothing only costs: a user-land snapshot starts later than Node's own (see bench/README.md).
      log(`${fn.name}: --snapshot: it imports no packages from node_modules, so there is nothing to snapshot; built without`);
    } else if (snapshot) {
      // The function's own bootstrap (checkSnapshot: never the thin layout's /opt one, never with a code cache); lib/ as shared.
      const made = await snapshotFunction({
        bundleOptions: bundleOptions(fn, project.root),
        bundled: snapshot,
        runtime: await sharedRuntime('/var/task'),
        cacheDir,
        log,
      });
      bundle = made.bundle;
      nodeRuntime = async (root) => (root === '/var/task' ? made.runtime : sharedRuntime(root));
    }
    if (fn.codeCache) {
      const cache = await makeCodeCache({
        name: fn.name,
        runtimeFiles: (await nodeRuntime('/var/task')).files,
        bundleFiles: bundle.files,
        log,
      });
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
      await writeExtensionLayer({
        extension,
        bundle: extensionBundles.get(extension.name)!,
        out: project.out,
        node: await node,
        deflateCache,
        log,
      }),
    );
    log(`${extension.name}: done in ${Date.now() - started} ms`);
  }
  return { project, artifacts };
}
