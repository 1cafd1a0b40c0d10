// The builder images (Dockerfile.al2, Dockerfile.al1) built for real and run the
// way users run them: `docker run -v <project>:/code -u <uid:gid> <builder> run ...`.
// Each flavour x architecture is built FROM the local stand-in base
// (lambda-kit/base:al2023-local-<arch>, made by scripts/setup.sh) over a context
// from docker/builder/prepare-context.sh; arm64 runs under qemu on x86_64 hosts.
//
// No skipping: without Docker or the base images these tests fail and say why.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { chown, cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { GenericContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Docker from 'dockerode';
import { buildProject, defaultCacheDir } from '../../../src/build/build.ts';
import {
  ARCHES,
  KIT_ARCH,
  NODE_ARCH,
  baseImage,
  cleanUpAll,
  docker,
  removeImage,
  requireDockerAndBase,
  type Arch,
} from '../../support/docker.ts';

const FLAVOURS = ['al2', 'al1'] as const;
type Flavour = (typeof FLAVOURS)[number];
const LIB_DIRS: Record<Arch, string> = { amd64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const PREPARE = fileURLToPath(new URL('../../../docker/builder/prepare-context.sh', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../../examples/hello', import.meta.url));
const PROBE = fileURLToPath(new URL('../../fixtures/extensions/probe-extension.ts', import.meta.url));
const RUN_TIMEOUT_MS = 120_000;
// Under qemu a handler itself runs slowly; give it room beyond the default 3 s.
const FUNCTION_TIMEOUT = ['--timeout', '30'];

// The user the containers run as: the test's own, or a non-root one when the
// test runs as root, so that "outputs belong to the user" means something.
const isRoot = process.getuid?.() === 0;
const uid = isRoot ? 1000 : process.getuid!();
const gid = isRoot ? 1000 : process.getgid!();

const run = promisify(execFile);

// One build context per architecture, shared by both flavours.
const contexts = new Map<Arch, Promise<string>>();
function contextFor(arch: Arch): Promise<string> {
  let context = contexts.get(arch);
  if (!context) {
    context = (async () => {
      const dir = await mkdtemp(join(tmpdir(), `lambda-kit-builder-context-${arch}-`));
      try {
        await run('bash', [PREPARE, arch, dir], { maxBuffer: 16 * 1024 * 1024 });
      } catch (error) {
        const { stderr } = error as { stderr?: string };
        throw new Error(`docker/builder/prepare-context.sh ${arch} failed:\n${stderr ?? (error as Error).message}`, {
          cause: error,
        });
      }
      return dir;
    })();
    contexts.set(arch, context);
  }
  return context;
}

afterAll(async () => {
  for (const context of contexts.values()) {
    const dir = await context.catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});

/** Splits `docker logs` output of a container without a TTY into stdout and stderr. */
function demux(buffer: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let offset = 0; offset + 8 <= buffer.length; ) {
    const size = buffer.readUInt32BE(offset + 4);
    const frame = buffer.subarray(offset + 8, offset + 8 + size);
    (buffer[offset] === 2 ? err : out).push(frame);
    offset += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A handler that writes into the project, to see whose files the container makes. */
const WRITE_OUTPUT = `import { mkdirSync, writeFileSync } from 'node:fs';

export async function handler() {
  const result = { uid: process.getuid(), gid: process.getgid(), arch: process.arch, node: process.version, cwd: process.cwd() };
  mkdirSync('out', { recursive: true });
  writeFileSync('out/result.json', JSON.stringify(result));
  return result;
}
`;

describe.each(FLAVOURS.flatMap((flavour) => ARCHES.map((arch) => [flavour, arch] as [Flavour, Arch])))(
  'builder image %s on linux/%s',
  (flavour, arch) => {
    const imageName = `lambda-kit/test-builder:${flavour}-${arch}-${randomUUID().slice(0, 8)}`;
    const containers: Docker.Container[] = [];
    let project: string | undefined;

    /** `docker run --rm --network host -v <project>:/code -u uid:gid <image> ...args`, to the end. */
    async function runBuilder(
      args: string[],
      options: { entrypoint?: string[]; env?: string[]; binds?: string[] } = {},
    ): Promise<RunResult> {
      const container = await docker.createContainer({
        Image: imageName,
        Cmd: args,
        ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
        Env: options.env ?? [],
        User: `${uid}:${gid}`,
        Tty: false,
        HostConfig: { NetworkMode: 'host', Binds: [`${project}:/code`, ...(options.binds ?? [])] },
      });
      containers.push(container);
      await container.start();
      let timer: NodeJS.Timeout | undefined;
      try {
        const { StatusCode } = await Promise.race([
          container.wait() as Promise<{ StatusCode: number }>,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${args.join(' ')}: still running after ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
          }),
        ]);
        const logs = (await container.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
        return { exitCode: StatusCode, ...demux(logs) };
      } finally {
        clearTimeout(timer);
        await container.remove({ force: true });
        containers.splice(containers.indexOf(container), 1);
      }
    }

    beforeAll(async () => {
      await requireDockerAndBase(arch);
      const context = await contextFor(arch);
      await GenericContainer.fromDockerfile(context, `Dockerfile.${flavour}`)
        .withBuildArgs({ BASE_IMAGE: baseImage(arch) })
        .withPlatform(`linux/${arch}`)
        .build(imageName, { deleteOnExit: false });
      const image = await docker.getImage(imageName).inspect();
      expect(image.Architecture, `${imageName} has the wrong platform`).toBe(arch);

      // A user's project: examples/hello plus a handler that writes output, owned by the user.
      project = await mkdtemp(join(tmpdir(), `lambda-kit-builder-project-${flavour}-${arch}-`));
      await cp(EXAMPLE, project, { recursive: true });
      await writeFile(join(project, 'write-output.ts'), WRITE_OUTPUT);
      await cp(PROBE, join(project, 'probe.ts'));
      if (isRoot) {
        for (const name of ['', 'handler.ts', 'write-output.ts', 'probe.ts']) await chown(join(project, name), uid, gid);
      }
    });

    afterAll(() =>
      cleanUpAll(`the ${flavour}/${arch} builder`, [
        ...containers.map((container) => () => container.remove({ force: true })),
        () => removeImage(imageName),
        async () => project && rm(project, { recursive: true, force: true }),
      ]),
    );

    it('builds the mounted project into zips byte-identical to the ones built on the host (a function and an extension layer)', async () => {
      const kitArch = KIT_ARCH[arch];
      const cacheDir = defaultCacheDir();
      const hostOut = await mkdtemp(join(tmpdir(), 'lambda-kit-host-build-'));
      try {
        // On the host: this also leaves the Node runtimes in the cache the builder reads (as --docker does).
        // A named function: a bare entry file would be named after its folder, which differs (/code in the builder).
        await writeFile(
          join(project!, 'lambda-kit.config.json'),
          JSON.stringify({ name: 'hello', entry: 'handler.ts', extensions: { probe: { entry: 'probe.ts' } } }),
        );
        const host = await buildProject({ cwd: project!, overrides: { arch: kitArch, out: hostOut }, cacheDir });
        expect(host.artifacts.map((artifact) => artifact.kind)).toEqual(['function', 'extension-layer']);
        const [hostZip, hostLayer] = host.artifacts as [(typeof host.artifacts)[number], (typeof host.artifacts)[number]];
        const result = await runBuilder(['build', '--arch', kitArch, '--out', 'out', '--json'], {
          env: ['LAMBDA_KIT_CACHE_DIR=/lambda-kit-cache', 'HOME=/tmp'],
          binds: [`${cacheDir}:/lambda-kit-cache:ro`],
        });
        expect(result.exitCode, `stderr:\n${result.stderr}`).toBe(0);
        const built = JSON.parse(result.stdout) as { artifacts: Array<{ sha256: string; path: string }> };
        expect(built.artifacts.map((artifact) => artifact.sha256)).toEqual([hostZip.sha256, hostLayer.sha256]);
        const onHost = join(project!, 'out', basename(hostZip.path));
        expect(
          createHash('sha256')
            .update(await readFile(onHost))
            .digest('hex'),
        ).toBe(hostZip.sha256);
        expect((await stat(onHost)).uid).toBe(uid);
        const layerOnHost = join(project!, 'out/layers/probe.zip');
        expect(
          createHash('sha256')
            .update(await readFile(layerOnHost))
            .digest('hex'),
        ).toBe(hostLayer.sha256);
        expect((await stat(layerOnHost)).uid).toBe(uid);
      } finally {
        await rm(hostOut, { recursive: true, force: true });
      }
    });

    it('runs a handler of the mounted project: lambda-kit run handler.ts --payload ...', async () => {
      const result = await runBuilder(['run', 'handler.ts', '--payload', '{"firstName":"Ada"}', ...FUNCTION_TIMEOUT]);
      expect(result.exitCode, `stderr:\n${result.stderr}`).toBe(0);
      expect(result.stdout).toBe('{"message":"Hello, Ada!"}\n');
      expect(result.stderr).toContain('greeting Ada');
    });

    it('writes into /code as the calling user, on the image architecture and Node 24', async () => {
      const result = await runBuilder(['run', 'write-output.ts', ...FUNCTION_TIMEOUT]);
      expect(result.exitCode, `stderr:\n${result.stderr}`).toBe(0);
      const written = JSON.parse(await readFile(join(project!, 'out/result.json'), 'utf8'));
      expect(written).toMatchObject({ uid, gid, arch: NODE_ARCH[arch], cwd: '/code' });
      expect(written.node).toMatch(/^v24\./);
      expect(JSON.parse(result.stdout)).toEqual(written);
      for (const path of ['out', 'out/result.json']) {
        const info = await stat(join(project!, path));
        expect({ path, uid: info.uid, gid: info.gid }).toEqual({ path, uid, gid });
      }
    });

    it('fails with exit code 2 and says what is wrong when the handler file does not exist', async () => {
      const result = await runBuilder(['run', 'missing.ts']);
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('lambda-kit: handler file missing.ts does not exist');
    });

    it("runs Node on its own glibc, not the base image's, even with LD_LIBRARY_PATH pointing there", async () => {
      // AWS's base images set LD_LIBRARY_PATH=/lib64:/usr/lib64:...; this points it at the stand-in's glibc.
      const script =
        "const maps = require('fs').readFileSync('/proc/self/maps', 'utf8');" +
        "console.log(JSON.stringify([...new Set(maps.split('\\n').map((l) => l.split(/\\s+/)[5]).filter((p) => p && p.includes('.so')))]))";
      const result = await runBuilder(['-e', script], {
        entrypoint: ['/opt/lambda-kit/bin/node'],
        env: [`LD_LIBRARY_PATH=/lib/${LIB_DIRS[arch]}:/usr/lib/${LIB_DIRS[arch]}:/lib64:/usr/lib64`],
      });
      expect(result.exitCode, `stderr:\n${result.stderr}`).toBe(0);
      const libraries: string[] = JSON.parse(result.stdout);
      expect(libraries).toEqual(expect.arrayContaining(['/opt/lambda-kit/lib/libc.so.6', '/opt/lambda-kit/lib/libstdc++.so.6']));
      expect(libraries.filter((path) => !path.startsWith('/opt/lambda-kit/lib/'))).toEqual([]);
    });
  },
);
