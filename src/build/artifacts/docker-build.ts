// dockerode is loaded when a build needs Docker: loading it is slow, and a zip build never needs it.
import type Docker from 'dockerode';
import { ARCH_NAMES } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';
import { dockerEngine } from './docker-engine.ts';
import { buildNodeRuntime, type NodeRuntimeRoot } from '../node/node-runtime.ts';
import { buildExtensionNode } from '../node/node-with-glibc.ts';
import type { NodeMajor } from '../project/choices.ts';
import type { ResolvedProject } from '../project/resolve.ts';

/** Where the host's kit cache is mounted in the builder, so the builder reuses what the host prepared. */
const CACHE_IN_BUILDER = '/lambda-kit-cache';

export interface DockerBuildOptions {
  /** The build's own arguments, without --docker and --builder. */
  args: string[];
  cwd: string;
  project: ResolvedProject;
  cacheDir: string;
  /** The builder image; by default lambda-kit/builder:<al2|al1>[-arm64] (npm run builder:images). */
  builder?: string;
  log: (line: string) => void;
  docker?: Docker;
}

function defaultBuilderImage(target: string, arch: string): string {
  return `lambda-kit/builder:${target === 'al1' ? 'al1' : 'al2'}${arch === 'arm64' ? '-arm64' : ''}`;
}

/**
 * `lambda-kit build --docker`: the same build, run by the kit inside the
 * builder image for the target (Dockerfile.al2 / Dockerfile.al1), as
 * `docker run --rm -v "$PWD":/code -u uid:gid --platform linux/<arch> <builder> build ...`.
 * The host first prepares the Node runtime in its cache (that needs Debian's
 * tools), and the builder reads it from there, so both give the same bytes.
 * Resolves with the builder's stdout (the --json result, paths made the host's).
 */
export async function buildInDocker(options: DockerBuildOptions): Promise<string> {
  const { project, log } = options;
  const functions = project.functions;
  const extensions = project.extensions;
  const arches = new Set([...functions, ...extensions].map((item) => item.arch));
  // Extension layers run on any base (they bring their glibc): only functions pick the builder's family.
  const flavours = new Set(functions.map((fn) => (fn.target === 'al1' ? 'al1' : 'al2')));
  if (arches.size > 1 || flavours.size > 1) {
    throw new KitError(
      'LK_KIT_BAD_OPTION',
      `--docker runs one builder, for one architecture and target family; these functions and extensions need ${[...arches].join(' and ')} / ${[...flavours].join(' and ')}: build them separately (name one, or pass --arch/--target)`,
    );
  }
  const image = functions.find((fn) => fn.format !== 'zip');
  if (image) {
    throw new KitError(
      'LK_KIT_BAD_OPTION',
      `--docker builds zips; function "${image.name}" is --format ${image.format}: images are built by the Docker engine itself, so build them without --docker`,
    );
  }
  const snapshot = functions.find((fn) => fn.snapshot);
  if (snapshot) {
    // The snapshot is made by the target's Node and put into a bootstrap with postject and patchelf:
    // host tools (like the Node runtime, which the host prepares), but it needs the bundle made in the builder.
    throw new KitError(
      'LK_KIT_SNAPSHOT_OPTIONS',
      `--docker builds with the builder image's tools, and function "${snapshot.name}" is --snapshot, whose bootstrap needs the host's ` +
        '(patchelf, strip, dpkg-deb, qemu for the other arch): build it without --docker (or without --snapshot)',
    );
  }
  const arch = [...arches][0]!;
  const builder = options.builder ?? defaultBuilderImage(functions[0]?.target ?? 'al2023', arch);
  const docker = await dockerEngine(options.docker, '--docker', 'start Docker (bash scripts/setup.sh on Debian)');
  const info = await docker
    .getImage(builder)
    .inspect()
    .catch(() => undefined);
  if (!info) {
    throw new KitError(
      'LK_KIT_NO_BUILDER',
      `builder image ${builder} is not in the local Docker engine: build it (npm run builder:images -- --arch ${arch}) or pass --builder <image>`,
    );
  }

  // What only the host can do: the Node runtime (Debian's glibc, patchelf, strip), into the shared cache.
  for (const key of new Set(functions.map((f) => `${f.nodeMajor}|${f.layout === 'thin' ? '/opt' : '/var/task'}`))) {
    const [major, root] = key.split('|') as [string, NodeRuntimeRoot];
    await buildNodeRuntime({
      arch,
      nodeMajor: Number(major) as NodeMajor,
      root,
      cacheDir: options.cacheDir,
      log: (line) => log(`node runtime: ${line}`),
    });
  }
  for (const major of new Set(extensions.map((extension) => extension.nodeMajor))) {
    await buildExtensionNode({ arch, nodeMajor: major, cacheDir: options.cacheDir, log: (line) => log(`extension node: ${line}`) });
  }

  const platform = ARCH_NAMES[arch].docker;
  log(`building in ${builder} (${platform}), as ${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`);
  const container = await docker.createContainer({
    Image: builder,
    Cmd: ['build', ...options.args],
    User: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
    WorkingDir: '/code',
    Env: [`LAMBDA_KIT_CACHE_DIR=${CACHE_IN_BUILDER}`, 'HOME=/tmp'],
    platform,
    HostConfig: {
      NetworkMode: 'host',
      Binds: [`${options.cwd}:/code`, `${options.cacheDir}:${CACHE_IN_BUILDER}`],
    },
    Labels: { 'org.lambda-kit.builder-run': 'true' },
  } as Docker.ContainerCreateOptions);
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    let stdout = '';
    docker.modem.demuxStream(
      stream,
      { write: (chunk: Buffer) => (stdout += chunk.toString()) } as never,
      {
        write: (chunk: Buffer) => process.stderr.write(chunk),
      } as never,
    );
    const waited = container.wait({ condition: 'next-exit' });
    await container.start();
    const { StatusCode } = (await waited) as { StatusCode: number };
    // Let the last output through the demuxer.
    await new Promise((resolve) => setImmediate(resolve));
    if (StatusCode !== 0) {
      throw new KitError('LK_KIT_DOCKER_BUILD', `the build in ${builder} failed (exit ${StatusCode}); its messages are above`);
    }
    return stdout.replaceAll('"/code/', `"${options.cwd}/`).replaceAll('"/code"', `"${options.cwd}"`);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
