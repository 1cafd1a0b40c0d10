/**
 * Work that must finish before the runtime asks for its first invocation:
 * Lambda takes extension registrations only during init, which ends when the
 * runtime calls /next. Handler modules may start such work without awaiting it.
 */

const pendingTasks: Array<Promise<unknown>> = [];
let initOver = false;

/** Holds the runtime's first /next until `task` settles; a rejection becomes the function's init error. */
export function addInitTask(task: Promise<unknown>): void {
  // Handled here so an early rejection is no unhandled rejection; the runtime sees it in settleInitTasks.
  task.catch(() => {});
  pendingTasks.push(task);
}

/** True once the runtime has finished init: from then on registrations are refused. */
export function isInitOver(): boolean {
  return initOver;
}

/** Awaits every init task, including ones added while waiting; throws the first failure. */
export async function settleInitTasks(): Promise<void> {
  try {
    while (pendingTasks.length > 0) await pendingTasks.shift();
  } finally {
    initOver = true;
  }
}
