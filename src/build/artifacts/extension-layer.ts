/**
 * An external Lambda extension as a layer zip. Lambda unpacks a function's
 * layers into /opt and starts every file of /opt/extensions as an extension
 * process, so the layer holds:
 *
 *   extensions/<name>                     0755, the bundled extension (ESM), its first line
 *                                         #!/opt/lambda-kit-node/v<version>/bin/node --enable-source-maps
 *   lambda-kit-node/v<version>/bin/node   0755, plain Node for the arch; ELF interpreter and
 *   lambda-kit-node/v<version>/lib/*      DT_RPATH /opt/lambda-kit-node/v<version>/lib
 *
 * The kernel follows the #! line, then Node's own interpreter path: no shell
 * and no Node on the base are needed (AWS's provided images have neither in
 * PATH; ours have no shell at all). Node is named by version, so several
 * lambda-kit extension layers on one function overlay identical files. Only
 * the executable goes in extensions/ (Lambda would try to start anything
 * there), so the source map is inline, at the end of the file.
 */
import { join } from 'node:path';
import type { ExtensionBundle } from '../bundle/bundle.ts';
import type { ResolvedExtension } from '../project/resolve.ts';
import { KitError } from '../errors.ts';
import { sizeOf, type ExtensionLayerArtifact } from './formats.ts';
import type { NodeRuntime } from '../node/node-runtime.ts';
import { extensionNodeDir } from '../node/node-with-glibc.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import { writeZip } from './zip.ts';

/** Where layers go in the output directory. */
const LAYERS_DIR = 'layers';

/**
 * Linux reads at most 255 characters of a #! line (127 before 5.1, which the
 * line is kept under) and passes everything after the interpreter as one
 * argument: hence a single flag.
 */
const MAX_SHEBANG = 127;

function extensionShebang(nodeVersion: string, sourcemap: boolean): string {
  return `#!/opt/${extensionNodeDir(nodeVersion)}/bin/node${sourcemap ? ' --enable-source-maps' : ''}`;
}

/**
 * extensions/<name>: the #! line, then the bundle, then its source map inline.
 * The map's mappings move down one line (a leading ";") for the #! line.
 */
function extensionExecutable(bundle: ExtensionBundle, nodeVersion: string): Buffer {
  const shebang = extensionShebang(nodeVersion, bundle.map !== undefined);
  if (shebang.length > MAX_SHEBANG) {
    throw new KitError(
      'LK_KIT_INVALID_OPTIONS',
      `the #! line of the extension would be ${shebang.length} characters, over the ${MAX_SHEBANG} that every Linux reads: ${shebang}`,
    );
  }
  const parts = [Buffer.from(`${shebang}\n`), bundle.code];
  if (bundle.map) {
    const map = JSON.parse(bundle.map.toString('utf8')) as { mappings: string };
    map.mappings = `;${map.mappings}`;
    const url = `data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}`;
    parts.push(Buffer.from(`//# sourceMappingURL=${url}\n`));
  }
  return Buffer.concat(parts);
}

/** The files of the layer zip, sorted by path. */
function extensionLayerFiles(name: string, bundle: ExtensionBundle, node: NodeRuntime): ArtifactFile[] {
  const dir = extensionNodeDir(node.nodeVersion);
  return [
    { path: `extensions/${name}`, data: extensionExecutable(bundle, node.nodeVersion), mode: 0o755 },
    ...node.files.map((file) => ({ ...file, path: `${dir}/${file.path}` })),
  ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface ExtensionLayerContext {
  extension: ResolvedExtension;
  bundle: ExtensionBundle;
  /** Absolute output directory: the zip goes to <out>/layers/<name>.zip. */
  out: string;
  node: NodeRuntime;
  /** Where zips keep the deflated forms of big entries (Node) between builds; none when absent. */
  deflateCache?: string;
  log: (line: string) => void;
}

export async function writeExtensionLayer({
  extension,
  bundle,
  out,
  node,
  deflateCache,
  log,
}: ExtensionLayerContext): Promise<ExtensionLayerArtifact> {
  const written = await writeZip(
    join(out, LAYERS_DIR, `${extension.name}.zip`),
    extensionLayerFiles(extension.name, bundle, node),
    deflateCache === undefined ? {} : { deflateCache },
  );
  log(`${extension.name}: wrote ${written.path} (${sizeOf(written.size)}, extension layer, ${extension.arch}, Node ${node.nodeVersion})`);
  return {
    extension: extension.name,
    kind: 'extension-layer',
    ...written,
    arch: extension.arch,
    format: 'zip',
    nodeVersion: node.nodeVersion,
  };
}
