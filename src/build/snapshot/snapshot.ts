/**
 * --snapshot: the packages a function imports from node_modules, evaluated at
 * build time into a V8 startup snapshot inside the function's own bootstrap,
 * so that a cold start deserialises them instead of evaluating them again
 * (most of the init of a function that imports the AWS SDK).
 *
 *   snapshot-bundle.ts, vendor-bundle.ts   index.mjs reads those modules from
 *                                          the snapshot; vendor.cjs holds them
 *   snapshot-node.ts (SnapshotNode)        the target's Node runs
 *                                          launcher/snapshot-launcher.cjs as
 *                                          the snapshot builder, over vendor.cjs
 *   snapshot-code-cache.ts                 the code caches a start cannot use,
 *                                          dropped from the blob
 *   here                                   the steps, and what a failure means
 *
 * The function's own code is not in the snapshot: it is evaluated at start,
 * so what it reads from the environment is the runtime's. The packages'
 * module-level code runs on the build machine; so does lambda-kit's own (the
 * runtime loop and any lambda-kit module the function imports), which reads
 * the environment only once started.
 */
import { HOST_ARCH, type Arch } from '../../platform/arch.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import type { BundleOptions, BundleResult } from '../bundle/bundle.ts';
import { KitError } from '../errors.ts';
import type { NodeRuntime } from '../node/node-runtime.ts';
import type { ResolvedFunction } from '../project/resolve.ts';
import { rebundleWithExports, type SnapshotBundle } from './snapshot-bundle.ts';
import { SnapshotNode, type SnapshotAttempt } from './snapshot-node.ts';
import { bundleVendor, type VendorBundle, type VendorModule } from './vendor-bundle.ts';

/** Far longer than a snapshot takes, natively or under qemu (see bench/README.md): past it, a package never returns while loading. */
const TIMEOUT_MS = { native: 120_000, qemu: 900_000 };
const ERROR_LINE = /^LAMBDA_KIT_SNAPSHOT_ERROR (.*)$/m;

interface SnapshotOptions {
  /** The function's name, for messages. */
  name: string;
  arch: Arch;
  /** The exact Node version of the function's runtime. */
  nodeVersion: string;
  cacheDir: string;
  vendor: VendorBundle;
  /** Bundles a vendor.cjs of some modules only: to find which packages a snapshot cannot hold. */
  rebundle: (modules: VendorModule[]) => Promise<VendorBundle>;
  log?: (line: string) => void;
}

interface SnapshotBootstrap {
  /** The function's `bootstrap` (rooted at /var/task), its SEA blob holding the snapshot. */
  bootstrap: ArtifactFile;
  /** Own property names of each module the snapshot holds, by key: what index.mjs's stand-ins may export by name. */
  exports: Record<string, string[]>;
}

/**
 * --snapshot puts the snapshot into the function's own bootstrap: a layout
 * whose bootstrap is the shared Node layer in /opt cannot have one. With
 * --code-cache it is refused too: the cache would cover index.mjs alone (the
 * packages' code is in the snapshot) and made no measurable difference (see
 * bench/README.md), while it runs the function's init at build time, which
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

export interface SnapshotFunctionOptions {
  /** What the function is bundled with (its name, arch, root, externals, minify). */
  bundleOptions: BundleOptions;
  /** bundleForSnapshot's, with a vendor bundle of at least one package. */
  bundled: SnapshotBundle;
  /** The function's shared Node runtime for /var/task: its Node makes the snapshot, its bootstrap is replaced. */
  runtime: NodeRuntime;
  cacheDir: string;
  log?: (line: string) => void;
}

/**
 * The snapshot made and put in place: the function's own Node runtime (the
 * shared one with a bootstrap holding the snapshot; lib/ as shared) and
 * index.mjs bundled again for it.
 */
export async function snapshotFunction(options: SnapshotFunctionOptions): Promise<{ bundle: BundleResult; runtime: NodeRuntime }> {
  const { bundleOptions, bundled, runtime } = options;
  const { bootstrap, exports } = await makeSnapshotBootstrap({
    name: bundleOptions.name,
    arch: bundleOptions.arch,
    nodeVersion: runtime.nodeVersion,
    cacheDir: options.cacheDir,
    vendor: bundled.vendor,
    rebundle: (modules) => bundleVendor(modules, bundleOptions),
    ...(options.log && { log: options.log }),
  });
  const own: NodeRuntime = {
    nodeVersion: runtime.nodeVersion,
    files: runtime.files.map((file) => (file.path === 'bootstrap' ? bootstrap : file)),
  };
  return { bundle: await rebundleWithExports(bundleOptions, bundled.bundle, exports), runtime: own };
}

async function makeSnapshotBootstrap(options: SnapshotOptions): Promise<SnapshotBootstrap> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const timeoutMs = options.arch === HOST_ARCH ? TIMEOUT_MS.native : TIMEOUT_MS.qemu;
  const node = await SnapshotNode.prepare({
    arch: options.arch,
    nodeVersion: options.nodeVersion,
    cacheDir: options.cacheDir,
    log: (line) => log(`node runtime: ${line}`),
  });
  try {
    const attempt = await node.attempt(options.vendor.code, timeoutMs);
    if (!attempt.ok) throw await explain(node, attempt, options, timeoutMs);
    const { file: bootstrap, codeCache } = await node.bootstrap('/var/task');
    const packages = options.vendor.packages;
    log(
      `${options.name}: snapshot of ${packages.length} package(s)${packages.length > 0 ? ` (${summary(packages)})` : ''}, ` +
        `${(options.vendor.code.length / 1024).toFixed(1)} KB of code, in its bootstrap, in ${Date.now() - started} ms; ` +
        (codeCache
          ? `code caches of ${codeCache.dropped} built-ins it holds left out (${(codeCache.droppedBytes / 1048576).toFixed(1)} MB), ${codeCache.kept} kept`
          : `Node's code caches kept whole (the snapshot is not laid out as Node ${options.nodeVersion}'s)`),
    );
    return { bootstrap, exports: attempt.exports ?? {} };
  } finally {
    await node.dispose();
  }
}

function summary(packages: string[]): string {
  return packages.length <= 4 ? packages.join(', ') : `${packages.slice(0, 4).join(', ')} and ${packages.length - 4} more`;
}

function whatToDo(packages: string[]): string {
  const flags = packages.map((name) => `--external ${name}`).join(' ');
  return (
    `Leave ${packages.length === 1 ? 'it' : 'them'} out of the snapshot with ${flags || '--external <package>'} ` +
    `(shipped in node_modules/ and loaded at start), or build without --snapshot`
  );
}

/** What a failed attempt means, as a KitError; a crash of V8 is narrowed down to the packages that cause it. */
async function explain(node: SnapshotNode, attempt: SnapshotAttempt, options: SnapshotOptions, timeoutMs: number): Promise<KitError> {
  const prefix = `${options.name}: --snapshot evaluates the packages the function imports at build time`;
  const reported = parseReport(attempt.stderr);
  if (reported) {
    const packages = reported.package ? [reported.package] : (reported.packages ?? []);
    const who = reported.package ? `${reported.package} failed while loading: ${reported.message}` : reported.message;
    return new KitError('LK_KIT_SNAPSHOT', `${prefix}, and ${who}.\n${whatToDo(packages)}.${stack(reported.stack)}`);
  }
  if (attempt.timedOut) {
    // The build script's own watchdog reports an event loop kept busy; this is a package that never returns.
    return new KitError(
      'LK_KIT_SNAPSHOT',
      `${prefix}, and they did not finish loading in ${timeoutMs / 1000} s (${summary(options.vendor.packages)}).\n${whatToDo([])}.`,
    );
  }
  // V8 stopped (a fatal error, a signal): which package? Growing prefixes of the load order (a package may need an
  // earlier one's side effects): the first that fails ends with it.
  const fatal = fatalLine(attempt.stderr);
  let culprits = options.vendor.packages;
  const order = [...new Set(options.vendor.modules.map((module) => module.package))];
  if (order.length > 1) {
    culprits = [];
    for (let count = 1; count < order.length; count++) {
      const prefix = new Set(order.slice(0, count));
      const some = await options.rebundle(options.vendor.modules.filter((module) => prefix.has(module.package)));
      if (!(await node.attempt(some.code, timeoutMs)).ok) {
        culprits = [order[count - 1]!];
        break;
      }
    }
    // Every shorter prefix worked: the whole set fails, so the last package added does.
    if (culprits.length === 0) culprits = [order.at(-1)!];
  }
  const who = `V8 cannot hold what ${culprits.join(', ')} ${culprits.length === 1 ? 'makes' : 'make'} while loading`;
  return new KitError(
    'LK_KIT_SNAPSHOT',
    `${prefix}, and ${who}: the snapshot builder stopped (${attempt.signal ?? `exit ${attempt.code}`}${fatal ? `: ${fatal}` : ''}). ` +
      'Node 24 cannot serialise some native objects made at load time (crypto hashes and keys, Intl formatters, Blobs, ' +
      'TextDecoders for other encodings, zlib streams, MessageChannels, signal handlers).\n' +
      `${whatToDo(culprits)}.`,
  );
}

interface Report {
  package?: string;
  packages?: string[];
  message: string;
  stack?: string;
}

function parseReport(stderr: string): Report | undefined {
  const match = ERROR_LINE.exec(stderr);
  if (!match) return undefined;
  try {
    return JSON.parse(match[1]!) as Report;
  } catch {
    return { message: match[1]! };
  }
}

function stack(text: string | undefined): string {
  if (!text) return '';
  const lines = text
    .split('\n')
    .slice(1, 6)
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.length ? `\n  ${lines.join('\n  ')}` : '';
}

/** The line of V8's or Node's fatal error report that says what went wrong. */
function fatalLine(stderr: string): string | undefined {
  const lines = stderr.split('\n').map((line) => line.trim());
  const check = lines.find((line) => /not serialized|Check failed|Fatal error|FATAL ERROR/i.test(line) && !/^#\s*$/.test(line));
  const detail = lines.find((line) => /global handle not serialized|Unknown external reference|not serialized/i.test(line));
  return (detail ?? check)?.replace(/^#\s*/, '').slice(0, 300);
}
