/**
 * AWS's Runtime Interface Emulator (aws-lambda-rie), when this machine has
 * it: the emulator section runs the same trivial function under it, for a
 * side-by-side figure. The benchmark never builds or fetches it.
 *
 * How RIE is run here is read from its source
 * (cmd/aws-lambda-rie/main.go, internal/lambda/rie/run.go, http.go):
 * `aws-lambda-rie [--runtime-interface-emulator-address host:port]
 * [--runtime-api-address host:port] <bootstrap> [args...]`; it serves one
 * function, at /2015-03-31/functions/function/invocations, inits it on the
 * first invoke, and prints START, END and REPORT to stdout. Without
 * AWS_LAMBDA_MAX_CONCURRENCY in its environment it takes the classic path
 * (one invoke at a time), the one `docker run` of an AWS base image takes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { sleep } from './support.ts';

/** RIE_BINARY, or aws-lambda-rie on PATH; undefined when neither is there. */
export function findRie(): string | undefined {
  const candidates = [
    ...(process.env.RIE_BINARY ? [process.env.RIE_BINARY] : []),
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, 'aws-lambda-rie')),
  ];
  return candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningRie {
  /** http://127.0.0.1:port */
  endpoint: string;
  /** Its one function's Invoke path. */
  path: string;
  /** Whether it has exited (RIE panics on some concurrent invokes). */
  exited: () => boolean;
  stderr: () => string;
  stop: () => Promise<void>;
}

/** Starts RIE on 127.0.0.1 with `command` as the bootstrap, run from `taskRoot`; resolves once it takes connections. */
export async function startRie(binary: string, command: string[], taskRoot: string): Promise<RunningRie> {
  const invokePort = await freePort();
  const runtimePort = await freePort();
  const child: ChildProcess = spawn(
    binary,
    ['--runtime-interface-emulator-address', `127.0.0.1:${invokePort}`, '--runtime-api-address', `127.0.0.1:${runtimePort}`, ...command],
    {
      cwd: taskRoot,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LAMBDA_TASK_ROOT: taskRoot,
        AWS_LAMBDA_FUNCTION_NAME: 'bench',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
        AWS_LAMBDA_FUNCTION_TIMEOUT: '3',
        AWS_REGION: 'us-east-1',
        LOG_LEVEL: 'error',
      },
      // START/END/REPORT for every invoke: printing them is not what is measured.
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => {
    if (stderr.length < 20_000) stderr += data.toString('utf8');
  });
  let done = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      done = true;
      resolve();
    }),
  );
  const endpoint = `http://127.0.0.1:${invokePort}`;
  const stop = async () => {
    if (!done) child.kill('SIGKILL');
    await exited;
  };
  // It listens a moment after it starts; a connection refused until then.
  for (let attempt = 0; ; attempt++) {
    if (done) throw new Error(`aws-lambda-rie exited at start: ${stderr.trim() || 'no output'}`);
    const up = await fetch(`${endpoint}/`, { method: 'GET' }).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (attempt > 200) {
      await stop();
      throw new Error(`aws-lambda-rie did not listen on ${endpoint} within 10 s: ${stderr.trim()}`);
    }
    await sleep(50);
  }
  return { endpoint, path: '/2015-03-31/functions/function/invocations', exited: () => done, stderr: () => stderr, stop };
}
