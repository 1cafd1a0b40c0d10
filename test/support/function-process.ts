import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The environment Lambda sets for every function, as a test baseline. */
export function lambdaEnvironment(runtimeApi: string): Record<string, string> {
  return {
    AWS_LAMBDA_RUNTIME_API: runtimeApi,
    AWS_LAMBDA_FUNCTION_NAME: 'test-function',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/test-function',
    AWS_LAMBDA_LOG_STREAM_NAME: '2026/11/24/[$LATEST]0123456789abcdef',
    AWS_REGION: 'us-east-1',
  };
}

export interface FunctionProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
  /** Resolves with the stdout lines matching `match` once there are at least `count` of them. */
  waitForLines(match: (line: string) => boolean, count: number, timeoutMs?: number): Promise<string[]>;
}

export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/functions/${name}`, import.meta.url));

/** Runs a fixture function as its own process, the way Lambda runs a runtime. */
export function startFunction(script: string, runtimeApi: string, env: Record<string, string | undefined> = {}): FunctionProcess {
  const merged: Record<string, string | undefined> = { PATH: process.env.PATH, ...lambdaEnvironment(runtimeApi), ...env };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  const child = spawn(process.execPath, [script], { env: merged as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (data: string) => (out += data));
  child.stderr!.setEncoding('utf8').on('data', (data: string) => (err += data));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': by then stdout and stderr have been read to the end.
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForLines(match, count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = out.split('\n').filter(match);
        if (lines.length >= count) return lines;
        if (Date.now() > deadline) {
          throw new Error(`expected ${count} matching stdout lines within ${timeoutMs} ms, got ${lines.length}:\n${out}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
