import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { z } from 'zod';
import { functionArn } from '../platform/function-arn.ts';
import { FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE } from '../platform/function-name.ts';
import { InvokeApiServer, type InvokeTarget } from './apis/invoke-api-server.ts';
import { FunctionConfigError } from './errors.ts';
import { FunctionPool } from './function-pool.ts';
import type { FunctionSettings, InvokeRequest, InvokeResult } from './invocation.ts';
import { handlerFileLauncher } from './launchers/handler-file.ts';
import type { Launcher } from './launchers/launcher.ts';
import { ProcessLauncher } from './launchers/process-launcher.ts';
import { LAMBDA_PATH, withInherited } from './launchers/task-environment.ts';

const sourceSchema = z.union([
  /** A handler file served by the lambda-kit runtime loop, unbuilt (the quickest local loop). */
  z.strictObject({
    handlerFile: z.string().min(1),
    exportName: z.string().default('handler'),
  }),
  z.strictObject({
    command: z.array(z.string()).min(1),
    taskRoot: z.string().optional(),
  }),
  z.strictObject({ zip: z.string().min(1) }),
  z.strictObject({
    image: z.string().min(1),
    platform: z.enum(['linux/amd64', 'linux/arm64']).optional(),
  }),
]);

export const functionDefinitionSchema = z.strictObject({
  name: z.string().regex(FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE),
  source: sourceSchema,
  handler: z.string().optional(),
  /**
   * The directory that stands for /opt/extensions (a layer's extensions):
   * each executable in it runs as an external extension in every environment.
   * For handler-file, command and zip sources; an image brings its own /opt/extensions.
   */
  extensionsDir: z.string().min(1).optional(),
  /**
   * Layer zips for a zip source, unpacked in order into what stands for /opt
   * (a later layer's file wins): a thin zip's runtime layer (its
   * /opt/bootstrap), extension layers (their /opt/extensions).
   */
  layers: z.array(z.string().min(1)).optional(),
  /** Seconds, 1-900 as in Lambda (fractions allowed here, for tests). */
  timeoutSeconds: z.number().positive().max(900).default(3),
  memoryMb: z.number().int().min(128).max(10240).default(128),
  environment: z.record(z.string(), z.string()).default({}),
  /**
   * What the function takes from the emulator's own environment: nothing by
   * default, as in Lambda; true for all of it (below the variables the
   * launch sets itself), or the names of the variables to pass. AWS
   * credentials reach the function only this way.
   */
  inheritEnvironment: z.union([z.boolean(), z.array(z.string().min(1))]).default(false),
  /** Environments of this function that may run at once; invocations beyond wait. */
  maxEnvironments: z.number().int().min(1).max(1000).default(10),
  /** AWS_LAMBDA_MAX_CONCURRENCY: invocations one runtime takes at once (Lambda Managed Instances). */
  runtimeConcurrency: z.number().int().min(1).max(64).default(1),
  region: z.string().default('us-east-1'),
  accountId: z
    .string()
    .regex(/^\d{12}$/)
    .default('000000000000'),
  initTimeoutMs: z.number().int().positive().default(10_000),
});

export type FunctionDefinition = z.input<typeof functionDefinitionSchema>;

export interface EmulatorOptions {
  functions: FunctionDefinition[];
  /** 127.0.0.1 unless told otherwise. */
  host?: string;
  port?: number;
  /** Every log line of every environment, as CloudWatch would get it. */
  log?: (functionName: string, line: string) => void;
}

/** Reads a definition, naming the key that is wrong when one is. */
export function parseFunctionDefinition(definition: unknown): z.output<typeof functionDefinitionSchema> {
  const parsed = functionDefinitionSchema.safeParse(definition);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = (definition as { name?: unknown } | undefined)?.name;
    throw new FunctionConfigError(
      `function ${typeof name === 'string' ? `"${name}" ` : ''}definition: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/**
 * The zip and container launchers are loaded only when a function needs them:
 * the emulator baked into function images carries neither dockerode nor an unzipper.
 */
async function launcherFor(definition: z.output<typeof functionDefinitionSchema>): Promise<Launcher> {
  const source = definition.source;
  const inheritEnvironment = definition.inheritEnvironment;
  const extensionsDir = definition.extensionsDir === undefined ? {} : { extensionsDir: resolve(definition.extensionsDir) };
  if (definition.layers !== undefined && !('zip' in source)) {
    throw new FunctionConfigError(
      `function "${definition.name}": layers are for zip sources, which run with them as /opt; an image has its /opt built in, and a handler file or a command runs where it is`,
    );
  }
  if ('handlerFile' in source) return handlerFileLauncher(source.handlerFile, source.exportName, { ...extensionsDir, inheritEnvironment });
  if ('command' in source) {
    const taskRoot = resolve(source.taskRoot ?? process.cwd());
    // A command is the caller's own program, found on the caller's PATH, and may start others from it.
    const variables = withInherited({ LAMBDA_TASK_ROOT: taskRoot, PATH: process.env.PATH ?? LAMBDA_PATH }, inheritEnvironment);
    return new ProcessLauncher({ command: source.command, taskRoot, variables, ...extensionsDir });
  }
  if ('zip' in source) {
    const { ZipLauncher } = await import('./launchers/zip-launcher.ts');
    const layers = definition.layers === undefined ? {} : { layers: definition.layers.map((layer) => resolve(layer)) };
    return ZipLauncher.unpack(resolve(source.zip), { ...extensionsDir, ...layers, inheritEnvironment });
  }
  if (definition.extensionsDir !== undefined) {
    throw new FunctionConfigError(
      `function "${definition.name}": extensionsDir is for handler-file, command and zip sources; an image has its extensions in /opt/extensions`,
    );
  }
  const { ContainerLauncher } = await import('./launchers/container-launcher.ts');
  return new ContainerLauncher({
    image: source.image,
    memoryMb: definition.memoryMb,
    inheritEnvironment,
    ...(source.platform !== undefined && { platform: source.platform }),
  });
}

/**
 * A log record as a terminal shows several functions' logs at once: each of
 * its lines (a platform record may have several) with the function's name.
 */
export function prefixLines(functionName: string, record: string): string {
  return `${record
    .split('\n')
    .map((line) => `[${functionName}] ${line}`)
    .join('\n')}\n`;
}

/**
 * A local Lambda: named functions, each with a pool of execution environments
 * behind its own Runtime APIs, and the Invoke API in front.
 */
export class Emulator implements InvokeTarget {
  readonly #pools = new Map<string, FunctionPool>();
  readonly #launchers: Launcher[] = [];
  #api: InvokeApiServer | undefined;

  private constructor() {}

  static async start(options: EmulatorOptions): Promise<Emulator> {
    const emulator = new Emulator();
    const definitions = options.functions.map(parseFunctionDefinition);
    const names = new Set<string>();
    for (const definition of definitions) {
      if (names.has(definition.name)) throw new FunctionConfigError(`function "${definition.name}" is defined twice`);
      names.add(definition.name);
    }
    const log = options.log ?? ((name, line) => process.stderr.write(prefixLines(name, line)));
    try {
      for (const definition of definitions) {
        const launcher = await launcherFor(definition);
        emulator.#launchers.push(launcher);
        const settings: FunctionSettings = {
          name: definition.name,
          version: '$LATEST',
          region: definition.region,
          accountId: definition.accountId,
          memoryMb: definition.memoryMb,
          timeoutSeconds: definition.timeoutSeconds,
          handler: definition.handler,
          environment: definition.environment,
          runtimeConcurrency: definition.runtimeConcurrency,
          initTimeoutMs: definition.initTimeoutMs,
        };
        emulator.#pools.set(
          definition.name,
          new FunctionPool(settings, launcher, definition.maxEnvironments, (line) => log(definition.name, line)),
        );
      }
      emulator.#api = await InvokeApiServer.start(emulator, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
    } catch (error) {
      await emulator.close();
      throw error;
    }
    return emulator;
  }

  /** http://host:port of the Invoke API (an endpoint for the AWS SDK and CLI). */
  get endpoint(): string {
    return this.#api!.endpoint;
  }

  get functionNames(): string[] {
    return [...this.#pools.keys()];
  }

  /** A function's pool of environments (tests and benchmarks count its environments). */
  pool(name: string): FunctionPool | undefined {
    return this.#pools.get(name);
  }

  has(name: string): boolean {
    return this.#pools.has(name);
  }

  /** The ARN of a function of this name, in the region and account of the emulator's first function. */
  functionArn(name: string, qualifier?: string): string {
    const first = this.#pools.values().next().value?.settings;
    return functionArn({ region: first?.region ?? 'us-east-1', accountId: first?.accountId ?? '000000000000', name }, qualifier);
  }

  /** Invokes a function directly (the Invoke API does the same over HTTP). */
  invoke(name: string, request: InvokeRequest): Promise<InvokeResult> {
    const pool = this.#pools.get(name);
    if (!pool) throw new FunctionConfigError(`no function named "${name}": this emulator has ${this.functionNames.join(', ') || 'none'}`);
    return pool.invoke({ ...request, requestId: request.requestId ?? randomUUID() });
  }

  async close(): Promise<void> {
    await this.#api?.close();
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    await Promise.all(this.#launchers.map((launcher) => launcher.dispose()));
  }
}
