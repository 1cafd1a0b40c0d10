/**
 * Output formats: each turns a bundled function into artifacts. `zip` is
 * here; another format (a container image) is one more entry in `formats`.
 */
import { join } from 'node:path';
import type { BundleResult } from '../bundle/bundle.ts';
import { ARCH_NAMES, type Arch } from '../../platform/arch.ts';
import type { Layout, Target } from '../project/choices.ts';
import type { ResolvedFunction } from '../project/resolve.ts';
import type { NodeRuntime, NodeRuntimeRoot } from '../node/node-runtime.ts';
import { DEFAULT_BASE_IMAGES, buildFunctionImage } from './image.ts';
import { bundleLocalEmulator } from './local-emulator.ts';
import { writeZip } from './zip.ts';

/** One file the build wrote for a function, as `--json` reports it. */
export interface FunctionArtifact {
  function: string;
  /** "function": the code (with the runtime when self-contained); "runtime-layer": the Node runtime for /opt. */
  kind: 'function' | 'runtime-layer';
  path: string;
  sha256: string;
  size: number;
  arch: Arch;
  target: Target;
  format: string;
  layout: Layout;
  nodeVersion: string;
  /** For images: the tag in the local Docker engine (path is the tag too, sha256 the image ID). */
  image?: string;
  platform?: string;
}

/** The layer zip of an external extension (extension-layer.ts), as `--json` reports it. */
export interface ExtensionLayerArtifact {
  extension: string;
  kind: 'extension-layer';
  path: string;
  sha256: string;
  size: number;
  arch: Arch;
  format: 'zip';
  nodeVersion: string;
}

export type Artifact = FunctionArtifact | ExtensionLayerArtifact;

export interface FormatContext {
  fn: ResolvedFunction;
  bundle: BundleResult;
  /** Absolute output directory. */
  out: string;
  /** The Node runtime for this function's arch and Node major, files rooted at `root`. */
  nodeRuntime: (root: NodeRuntimeRoot) => Promise<NodeRuntime>;
  /** Where zips keep the deflated forms of big entries (Node) between builds; none when absent. */
  deflateCache?: string;
  log: (line: string) => void;
}

export type FormatBuilder = (context: FormatContext) => Promise<FunctionArtifact[]>;

function sizeOf(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * A zip for Lambda's custom runtime (provided.al2023 / provided.al2):
 * self-contained (`bootstrap`, `lib/*`, `index.mjs`, ...), or thin (the code
 * only) with the Node runtime as a separate layer zip, whose files Lambda
 * puts in /opt: it runs /opt/bootstrap when the function has none.
 */
const zipFormat: FormatBuilder = async ({ fn, bundle, out, nodeRuntime, deflateCache, log }) => {
  const common = { function: fn.name, arch: fn.arch, target: fn.target, format: fn.format, layout: fn.layout };
  const zipOptions = deflateCache === undefined ? {} : { deflateCache };
  if (fn.layout === 'self-contained') {
    const runtime = await nodeRuntime('/var/task');
    const written = await writeZip(join(out, `${fn.name}.zip`), [...runtime.files, ...bundle.files], zipOptions);
    log(`${fn.name}: wrote ${written.path} (${sizeOf(written.size)}, self-contained, ${fn.arch}, Node ${runtime.nodeVersion})`);
    return [{ ...common, kind: 'function', ...written, nodeVersion: runtime.nodeVersion }];
  }
  const code = await writeZip(join(out, `${fn.name}.zip`), bundle.files, zipOptions);
  const runtime = await nodeRuntime('/opt');
  const layer = await writeZip(join(out, `${fn.name}-runtime-${fn.arch}.zip`), runtime.files, zipOptions);
  log(
    `${fn.name}: wrote ${code.path} (${sizeOf(code.size)}, code only) and ${layer.path} (${sizeOf(layer.size)}, Node ${runtime.nodeVersion} layer for /opt)`,
  );
  return [
    { ...common, kind: 'function', ...code, nodeVersion: runtime.nodeVersion },
    { ...common, kind: 'runtime-layer', ...layer, nodeVersion: runtime.nodeVersion },
  ];
};

/**
 * A container image for Lambda: the same self-contained artifact in /var/task
 * of the base (AWS's provided image for the target unless --base-image says
 * otherwise), the bootstrap as entrypoint, plus the local emulator it serves
 * itself with under plain `docker run`. One architecture, one plain manifest.
 */
const imageFormat: FormatBuilder = async ({ fn, bundle, nodeRuntime, log }) => {
  const runtime = await nodeRuntime('/var/task');
  const tag = fn.imageTag ?? `lambda-kit/${fn.name.toLowerCase()}:${fn.arch}`;
  const baseImage = fn.baseImage ?? DEFAULT_BASE_IMAGES[fn.target];
  log(`${fn.name}: building image ${tag} (${ARCH_NAMES[fn.arch].docker}, FROM ${baseImage})`);
  const built = await buildFunctionImage({
    files: [...runtime.files, ...bundle.files, ...(await bundleLocalEmulator())],
    arch: fn.arch,
    baseImage,
    tag,
    onProgress: (line) => log(`${fn.name}: ${line}`),
  });
  log(`${fn.name}: built image ${tag} (${sizeOf(built.size)}, ${built.platform}, Node ${runtime.nodeVersion})`);
  return [
    {
      function: fn.name,
      kind: 'function',
      path: tag,
      sha256: built.imageId.replace(/^sha256:/, ''),
      size: built.size,
      arch: fn.arch,
      target: fn.target,
      format: fn.format,
      layout: fn.layout,
      nodeVersion: runtime.nodeVersion,
      image: tag,
      platform: built.platform,
    },
  ];
};

/** The formats `lambda-kit build --format` knows. */
export const formats: Record<string, FormatBuilder> = {
  zip: zipFormat,
  image: imageFormat,
};

export { sizeOf };
