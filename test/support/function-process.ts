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
}

export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/functions/${name}`, import.meta.url));

/** Runs a fixture function as its own process, the way Lambda runs a runtime. */
export function startFunction(
  script: string,
  runtimeApi: string,
  env: Record<string, string | undefined> = {},
): FunctionProcess {
  const merged: Record<string, string | undefined> = { PATH: process.env.PATH, ...lambdaEnvironment(runtimeApi), ...env };
  for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
  const child = spawn(process.execPath, [script], { env: merged as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (data: string) => (out += data));
  child.stderr!.setEncoding('utf8').on('data', (data: string) => (err += data));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
