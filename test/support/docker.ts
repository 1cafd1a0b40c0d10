// Shared by the Docker tests: reaching the engine, the local stand-in base images,
// and images of bundled test functions. Never skips: without Docker, tests fail and say why.
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { build } from 'esbuild';
import { GenericContainer } from 'testcontainers';
import { expect } from 'vitest';
import type { ArtifactFile } from '../../src/build/artifact-file.ts';

export const ARCHES = ['amd64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];
export const NODE_ARCH: Record<Arch, string> = { amd64: 'x64', arm64: 'arm64' };
/** The build kit's names for the same architectures. */
export const KIT_ARCH = { amd64: 'x86_64', arm64: 'arm64' } as const;
export const baseImage = (arch: Arch) => `lambda-kit/base:al2023-local-${arch}`;
export const docker = new Docker();

const SETUP_STATE = fileURLToPath(new URL('../../.cache/setup/docker', import.meta.url));

/** Fails, saying why and what to do, when Docker is not there. */
export async function requireDocker(): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    const recorded = await readFile(SETUP_STATE, 'utf8').then(
      (state) => `scripts/setup.sh recorded: ${state.trim()}`,
      () => 'scripts/setup.sh has not run here',
    );
    throw new Error(
      `Docker is not reachable (${(error as Error).message}). These tests need a Docker daemon: ` +
        `run \`bash scripts/setup.sh\`, which installs and starts it. ${recorded}.`,
      { cause: error },
    );
  }
}

/** Fails, saying why and what to do, when Docker or a base image is not there. */
export async function requireDockerAndBase(arch: Arch): Promise<void> {
  await requireDocker();
  const image = await docker
    .getImage(baseImage(arch))
    .inspect()
    .catch(() => undefined);
  if (!image) {
    throw new Error(`base image ${baseImage(arch)} is missing: run \`bash scripts/setup.sh\`, which builds it offline`);
  }
  expect(image.Architecture, `${baseImage(arch)} has the wrong platform`).toBe(arch);
}

/**
 * Bundles a test function (which starts the runtime loop itself) with esbuild and
 * builds an image FROM the stand-in base running it as /var/task/index.mjs.
 */
export async function buildFunctionImage(
  entry: string,
  arch: Arch,
  tag: string,
  /** External extensions to put in /opt/extensions: name -> entry file (bundled, run by the image's Node). */
  extensions: Record<string, string> = {},
  /** A directory copied into /opt, as Lambda unpacks a layer there (an unpacked layer zip). */
  opt?: string,
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `lambda-kit-docker-${arch}-`));
  try {
    await bundleTestFunction(entry, join(dir, 'index.mjs'));
    await mkdir(join(dir, 'extensions'));
    for (const [name, extensionEntry] of Object.entries(extensions)) {
      await build({
        entryPoints: [extensionEntry],
        outfile: join(dir, 'extensions', name),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        external: ['node:*'],
        // The image has no shell: the kernel starts the extension through its #! line.
        banner: { js: '#!/var/lang/bin/node' },
        logLevel: 'warning',
      });
      await chmod(join(dir, 'extensions', name), 0o755);
    }
    if (opt !== undefined) await cp(opt, join(dir, 'opt'), { recursive: true });
    await writeFile(
      join(dir, 'Dockerfile'),
      [
        `FROM ${baseImage(arch)}`,
        'COPY index.mjs /var/task/index.mjs',
        ...(Object.keys(extensions).length > 0 ? ['COPY extensions/ /opt/extensions/'] : []),
        ...(opt !== undefined ? ['COPY opt/ /opt/'] : []),
        'ENTRYPOINT ["/var/lang/bin/node", "/var/task/index.mjs"]',
        '',
      ].join('\n'),
    );
    await GenericContainer.fromDockerfile(dir).withPlatform(`linux/${arch}`).build(tag, { deleteOnExit: false });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A test function (which starts the runtime loop itself) as one ESM file, for an image's /var/task. */
export async function bundleTestFunction(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: ['node:*'],
    logLevel: 'warning',
  });
}

/**
 * Runs every clean-up step even when some fail, then fails with all that
 * failed: one leftover must not leave the others behind.
 */
export async function cleanUpAll(what: string, steps: Array<() => Promise<unknown>>): Promise<void> {
  const problems: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      problems.push(error);
    }
  }
  if (problems.length > 0) throw new AggregateError(problems, `cleaning up after ${what} failed`);
}

/** Removes an image if it is there. */
export async function removeImage(tag: string): Promise<void> {
  const image = docker.getImage(tag);
  if (await image.inspect().catch(() => undefined)) await image.remove({ force: true });
}

/**
 * Runs `image` as plain `docker run` would (no AWS_LAMBDA_RUNTIME_API: the
 * bootstrap starts its own emulator, on a port of ours, host network), posts
 * `payload` to its Invoke API once it answers, and removes the container.
 */
export async function invokeSelfServingImage(
  image: string,
  arch: Arch,
  payload: string,
): Promise<{ status: number | undefined; body: unknown }> {
  const port = 19_000 + Math.floor(Math.random() * 1000);
  const container = await docker.createContainer({
    Image: image,
    platform: `linux/${arch}`,
    Env: ['LAMBDA_KIT_EMULATOR_HOST=127.0.0.1', `LAMBDA_KIT_EMULATOR_PORT=${port}`],
    HostConfig: { NetworkMode: 'host' },
  } as Parameters<typeof docker.createContainer>[0]);
  try {
    await container.start();
    const url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
    let response: Response | undefined;
    for (let attempt = 0; attempt < 300 && !response; attempt++) {
      response = await fetch(url, { method: 'POST', body: payload }).catch(() => undefined);
      if (!response) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { status: response?.status, body: response ? await response.json() : undefined };
  } finally {
    await container.remove({ force: true });
  }
}

/** The files under `dir` as artifact files (paths relative to it, permission bits kept): an unpacked zip, to build an image from. */
export async function filesOf(dir: string): Promise<ArtifactFile[]> {
  const files: ArtifactFile[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.push({ path: relative(dir, path), data: await readFile(path), mode: (await stat(path)).mode & 0o777 });
  }
  return files;
}
