import type { ShutdownReason } from '../apis/extensions-api.ts';
import type { Sandbox } from './sandbox.ts';

/**
 * AWS's Shutdown phase limits: 2,000 ms when an external extension is
 * registered, 500 ms with internal extensions only, 0 ms (no SIGTERM, just
 * SIGKILL) without extensions. (Lambda developer guide, "Shutdown phase".)
 */
const SHUTDOWN_WINDOW_MS = { external: 2000, internal: 500, none: 0 } as const;

/**
 * Lambda's Shutdown phase: SIGTERM to the runtime, SHUTDOWN to the external
 * extensions registered for it, then SIGKILL for whatever is left when the
 * window closes (SHUTDOWN_WINDOW_MS unless `graceMs` says otherwise). Frees
 * the Runtime API.
 */
export async function shutdown(sandbox: Sandbox, graceMs?: number, reason: ShutdownReason = 'spindown'): Promise<void> {
  if (sandbox.dead) return;
  sandbox.dead = true;
  const { extensionsApi, telemetry } = sandbox;
  const registered = extensionsApi.extensions;
  const windowMs =
    graceMs ??
    (registered.some((extension) => extension.kind === 'external')
      ? SHUTDOWN_WINDOW_MS.external
      : registered.length > 0
        ? SHUTDOWN_WINDOW_MS.internal
        : SHUTDOWN_WINDOW_MS.none);
  if (windowMs > 0) {
    let timer: NodeJS.Timeout | undefined;
    const windowClosed = new Promise<void>((resolve) => (timer = setTimeout(resolve, windowMs)));
    await sandbox.runtime?.signal('SIGTERM');
    // Subscribers get what happened so far before they are told to shut down.
    await Promise.race([telemetry.flush(), windowClosed]);
    const targets = extensionsApi.dispatch({ eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs: Date.now() + windowMs });
    const finished = sandbox.until(
      () => sandbox.runtimeExited && targets.every((extension) => sandbox.hasExited(extension.name) || extensionsApi.isIdle(extension)),
    );
    await Promise.race([finished.promise, windowClosed]);
    finished.cancel();
    // What the runtime and extensions logged while shutting down still reaches the subscribers that are left.
    await Promise.race([telemetry.close(), windowClosed]);
    clearTimeout(timer);
  }
  await sandbox.kill();
}

/** Kills the runtime and extensions at once and frees everything. */
export async function destroy(sandbox: Sandbox): Promise<void> {
  if (sandbox.dead) return;
  sandbox.dead = true;
  await sandbox.kill();
}

/** A failed environment: extensions registered for SHUTDOWN hear why; otherwise it is killed at once. */
export async function terminate(sandbox: Sandbox, reason: ShutdownReason): Promise<void> {
  if (sandbox.extensionsApi.subscribers('SHUTDOWN').length > 0) await shutdown(sandbox, undefined, reason);
  else await destroy(sandbox);
}
