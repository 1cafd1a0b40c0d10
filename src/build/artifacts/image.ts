/**
 * A function as a container image: its files in /var/task of a base image,
 * built by the local Docker engine from a reproducible build context.
 */
import { PassThrough } from 'node:stream';
// dockerode is loaded when a build needs Docker: loading it is slow, and a zip build never needs it.
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { ARCH_NAMES, type Arch } from '../../platform/arch.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import { KitError } from '../errors.ts';
import { dockerEngine } from './docker-engine.ts';

/** AWS's base images for custom runtimes, per target: the defaults users get. */
export const DEFAULT_BASE_IMAGES = {
  al2023: 'public.ecr.aws/lambda/provided:al2023',
  al2: 'public.ecr.aws/lambda/provided:al2',
  al1: 'public.ecr.aws/lambda/provided:alami',
} as const;

export interface ImageBuildOptions {
  files: ArtifactFile[];
  arch: Arch;
  baseImage: string;
  tag: string;
  docker?: Docker;
  onProgress?: (line: string) => void;
}

export interface BuiltImage {
  tag: string;
  imageId: string;
  size: number;
  platform: string;
}

/**
 * The Dockerfile of a function image: the artifact under /var/task on the base,
 * the bootstrap as entrypoint (so it works on any base, even one with no shell).
 */
function functionDockerfile(): string {
  return [
    '# Built by lambda-kit: the function and its own Node (bootstrap + lib/) in /var/task.',
    'ARG BASE_IMAGE=public.ecr.aws/lambda/provided:al2023',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Dockerfile's own ARG, which docker build fills in
    'FROM ${BASE_IMAGE}',
    'COPY task/ /var/task/',
    'WORKDIR /var/task',
    'ENTRYPOINT ["/var/task/bootstrap"]',
    '',
  ].join('\n');
}

/** The build context as a tar stream: Dockerfile + task/<files>, fixed times and sorted, so it is reproducible. */
function buildContext(files: ArtifactFile[]): PassThrough {
  const pack = tar.pack();
  const out = new PassThrough();
  pack.pipe(out);
  const mtime = new Date(0);
  const entries: ArtifactFile[] = [
    { path: 'Dockerfile', data: Buffer.from(functionDockerfile()), mode: 0o644 },
    ...[...files].sort((a, b) => a.path.localeCompare(b.path)).map((file) => ({ ...file, path: `task/${file.path}` })),
  ];
  for (const entry of entries) pack.entry({ name: entry.path, mode: entry.mode, mtime, uid: 0, gid: 0 }, entry.data);
  pack.finalize();
  return out;
}

interface BuildEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Builds a single-architecture image through dockerode. Docker's classic
 * builder makes a plain image manifest (no attestation index, which Lambda
 * rejects). Errors arrive inside the build stream, not as a rejected promise:
 * each event is checked.
 */
export async function buildFunctionImage(options: ImageBuildOptions): Promise<BuiltImage> {
  const docker = await dockerEngine(
    options.docker,
    '--format image',
    'start Docker (on Debian: bash scripts/setup.sh does it), or build a zip with --format zip.',
  );
  const platform = ARCH_NAMES[options.arch].docker;
  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(
      buildContext(options.files) as unknown as NodeJS.ReadableStream,
      {
        t: options.tag,
        platform,
        buildargs: { BASE_IMAGE: options.baseImage },
        rm: true,
        forcerm: true,
        version: '1',
      } as Docker.ImageBuildOptions,
    );
  } catch (error) {
    throw new KitError('LK_KIT_IMAGE_BUILD', `docker build of ${options.tag} could not start: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const events = await new Promise<BuildEvent[]>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: BuildEvent[]) => (error ? reject(error) : resolve(output)),
      (event: BuildEvent) => {
        const line = (event.stream ?? event.status ?? '').trimEnd();
        if (line) options.onProgress?.(line);
      },
    );
  }).catch((error: Error) => {
    throw new KitError('LK_KIT_IMAGE_BUILD', `docker build of ${options.tag} failed: ${error.message}`, { cause: error });
  });
  const failure = events.find((event) => event.error || event.errorDetail);
  if (failure) {
    const message = failure.errorDetail?.message ?? failure.error ?? 'unknown error';
    const hint = /pull access denied|not found|manifest unknown|no such host|dial tcp/i.test(message)
      ? ` The base image ${options.baseImage} could not be had: pull it first, or pass --base-image with one you have.`
      : '';
    throw new KitError('LK_KIT_IMAGE_BUILD', `docker build of ${options.tag} failed: ${message}.${hint}`);
  }
  const info = await docker.getImage(options.tag).inspect();
  const expected = platform.split('/')[1];
  if (info.Architecture !== expected) {
    throw new KitError(
      'LK_KIT_IMAGE_PLATFORM',
      `${options.tag} came out as ${info.Os}/${info.Architecture}, not ${platform}: the base image ${options.baseImage} is for another platform`,
    );
  }
  return { tag: options.tag, imageId: info.Id, size: info.Size, platform };
}
