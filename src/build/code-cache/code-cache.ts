/**
 * --code-cache: V8's compiled code for the bundle, made at build time and
 * shipped in `.lambda-kit/compile-cache/` beside index.mjs, where the
 * bootstrap's launcher hands it to Node's compile cache (portable mode, so
 * paths are relative to the cache and survive the move to /var/task).
 *
 * The cache is made by the artifact's own bootstrap (same Node, same V8
 * flags, so Lambda accepts it), run against a one-shot Runtime API on
 * 127.0.0.1: the function initialises as under Lambda, and once it asks for
 * its first invocation it is sent SIGTERM, exits, and Node writes the cache.
 * For arm64 on an x86_64 machine that runs under qemu (binfmt_misc).
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { INIT_ERROR_PATH, NEXT_INVOCATION_PATH } from '../../../runtime/protocol/index.ts';
import { lambdaEnvironment } from '../../platform/function-environment.ts';
import type { ArtifactFile } from '../artifact-file.ts';
import { KitError } from '../errors.ts';

const CODE_CACHE_DIR = '.lambda-kit/compile-cache';

/** Under qemu the whole init takes seconds; far more means the function hangs in init. */
const TIMEOUT_MS = 120_000;

export interface CodeCacheOptions {
  name: string;
  /** bootstrap and lib/ of the '/var/task' Node runtime. */
  runtimeFiles: ArtifactFile[];
  /** index.mjs, its map, node_modules of the externals. */
  bundleFiles: ArtifactFile[];
  log?: (line: string) => void;
}

export async function makeCodeCache(options: CodeCacheOptions): Promise<ArtifactFile[]> {
  const root = await mkdtemp(join(tmpdir(), 'lambda-kit-code-cache-'));
  try {
    for (const file of [...options.runtimeFiles, ...options.bundleFiles]) {
      await mkdir(dirname(join(root, file.path)), { recursive: true });
      await writeFile(join(root, file.path), file.data);
      await chmod(join(root, file.path), file.mode);
    }
    const cacheDir = join(root, CODE_CACHE_DIR);
    await mkdir(cacheDir, { recursive: true });
    // The runtime's own file list names its loader: no need to look in lib/ again.
    const loader = options.runtimeFiles.find((file) => file.path.startsWith('lib/ld-linux-'))?.path;
    if (!loader)
      throw new KitError(
        'LK_KIT_CODE_CACHE',
        `${options.name}: the Node runtime has no lib/ld-linux-*: --code-cache needs a lambda-kit bootstrap`,
      );
    await loadOnce(root, loader, options.name);
    const files = await listFiles(cacheDir);
    if (files.length === 0) {
      throw new KitError(
        'LK_KIT_CODE_CACHE',
        `${options.name}: the function started but Node wrote no code cache; build without --code-cache`,
      );
    }
    const cache = await Promise.all(
      files.sort().map(async (path) => ({
        path: `${CODE_CACHE_DIR}/${relative(cacheDir, path).split('\\').join('/')}`,
        data: await readFile(path),
        mode: 0o644,
      })),
    );
    options.log?.(`${options.name}: code cache of ${cache.reduce((sum, file) => sum + file.data.length, 0)} bytes`);
    return cache;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Runs the bootstrap (through its own loader: its interpreter path is /var/task/lib/...) until its first /next. */
async function loadOnce(root: string, loader: string, name: string): Promise<void> {
  const lib = join(root, 'lib');
  let child: ReturnType<typeof spawn> | undefined;
  const sockets = new Set<Socket>();
  let askedForNext = false;
  let initError = '';
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    let received = '';
    socket.on('data', (data: Buffer) => {
      received += data.toString('utf8');
      if (received.startsWith('GET ') && received.includes(NEXT_INVOCATION_PATH)) {
        // Init is over: the function asks for its first invocation.
        askedForNext = true;
        child?.kill('SIGTERM');
      } else if (received.includes(INIT_ERROR_PATH) && received.includes('\r\n\r\n{')) {
        initError = received.slice(received.indexOf('\r\n\r\n') + 4);
        child?.kill('SIGKILL');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  let stderr = '';
  try {
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child = spawn(join(root, loader), ['--library-path', lib, join(root, 'bootstrap')], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          LAMBDA_TASK_ROOT: root,
          ...lambdaEnvironment({
            name,
            version: '$LATEST',
            memoryMb: 1024,
            region: process.env.AWS_REGION ?? 'us-east-1',
            runtimeApi: `127.0.0.1:${port}`,
          }),
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr!.setEncoding('utf8').on('data', (data: string) => (stderr += data));
      const timer = setTimeout(() => child?.kill('SIGKILL'), TIMEOUT_MS);
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
    if (!askedForNext || exit.code !== 0) {
      const why = initError
        ? `its init failed: ${initError.slice(0, 1000)}`
        : !askedForNext
          ? 'it ended before asking for an invocation'
          : `it exited ${exit.code ?? exit.signal} after SIGTERM`;
      throw new KitError(
        'LK_KIT_CODE_CACHE',
        `${name}: --code-cache loads the function once at build time, and ${why}${stderr.trim() ? `:\n  ${stderr.trim().split('\n').slice(-8).join('\n  ')}` : ''}`,
      );
    }
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}
