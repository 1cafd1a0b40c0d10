/**
 * Graceful shutdown. Lambda sends SIGTERM before it stops an environment only
 * when an extension is registered, so, as the Rust runtime does, the first
 * hook registers a no-op internal extension during init. The runtime then has
 * about 500 ms, so hooks must be quick: each gets the same deadline.
 */
import { ExtensionsApiClient } from '../client/extensions-api-client.ts';
import { addInitTask, isInitOver } from './init-tasks.ts';

export type ShutdownHook = (signal: string) => void | Promise<void>;

const hooks: ShutdownHook[] = [];

/** Default time the hooks get together; Lambda's shutdown phase gives the runtime about 500 ms. */
const SHUTDOWN_HOOK_DEADLINE_MS = 450;

/** The internal extension that makes Lambda send SIGTERM; visible in the platform.extension telemetry record. */
const GRACEFUL_SHUTDOWN_EXTENSION = 'lambda-kit-graceful-shutdown';

let helper: 'none' | 'registering' | 'skipped' = 'none';

/**
 * Registers a hook run once when the runtime is told to shut down (SIGTERM).
 * Call it while the module initialises: only then can the extension that makes
 * Lambda send SIGTERM be registered. Returns a function that removes the hook.
 *
 * @example
 * ```ts
 * import { onShutdown } from 'lambda-kit/runtime';
 *
 * const pool = createPool();
 * onShutdown(async () => {
 *   await pool.end(); // quick: every hook shares one deadline of under half a second
 * });
 * ```
 */
export function onShutdown(hook: ShutdownHook): () => void {
  hooks.push(hook);
  registerShutdownHelper();
  return () => {
    const index = hooks.indexOf(hook);
    if (index !== -1) hooks.splice(index, 1);
  };
}

export async function runShutdownHooks(
  signal: string,
  onError: (error: unknown) => void,
  deadlineMs = SHUTDOWN_HOOK_DEADLINE_MS,
): Promise<void> {
  const running = hooks.splice(0).map(async (hook) => {
    try {
      await hook(signal);
    } catch (error) {
      onError(error);
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadlineMs);
  });
  await Promise.race([Promise.all(running), deadline]);
  clearTimeout(timer);
}

function registerShutdownHelper(): void {
  if (helper !== 'none') return;
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!api) {
    helper = 'skipped';
    return;
  }
  if (isInitOver()) {
    helper = 'skipped';
    console.warn(
      'onShutdown() was called after init: Lambda sends SIGTERM only when an extension registered during init, ' +
        'so this hook may never run; call onShutdown() at module top level',
    );
    return;
  }
  helper = 'registering';
  // The idle next must not keep the process alive: nothing ever answers it.
  const client = new ExtensionsApiClient(api, { nextKeepsProcessAlive: false });
  addInitTask(
    client.register(GRACEFUL_SHUTDOWN_EXTENSION, []).then(
      // Calling next is how an extension says its init is done; with no events it waits for ever.
      () => void client.nextEvent().catch(() => {}),
      (error: unknown) => {
        // Without the helper the hooks just never run: worth a warning, not a failed init.
        console.warn(`graceful shutdown unavailable, SIGTERM will not be sent: ${(error as Error).message}`);
      },
    ),
  );
}
