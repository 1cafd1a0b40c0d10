/**
 * Graceful shutdown. Lambda sends SIGTERM before it stops an environment
 * (when an extension is registered; the runtime then has a few hundred
 * milliseconds), so hooks must be quick: each gets the same deadline.
 */

export type ShutdownHook = (signal: string) => void | Promise<void>;

const hooks: ShutdownHook[] = [];

/** Default time the hooks get together; Lambda's shutdown phase gives the runtime about 500 ms. */
export const SHUTDOWN_HOOK_DEADLINE_MS = 450;

/** Registers a hook run once when the runtime is told to shut down (SIGTERM). Returns a function that removes it. */
export function onShutdown(hook: ShutdownHook): () => void {
  hooks.push(hook);
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
