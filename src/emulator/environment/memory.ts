import type { LaunchedRuntime } from '../launchers/launcher.ts';

/**
 * Peak memory of the runtime and the extension processes together, the
 * whole sandbox's, as Lambda measures it for Max Memory Used: in MB, rounded
 * up. Each one's peak is its launcher's reading (launchers/sandbox-memory.ts),
 * which stands once the process is gone. Undefined when none of them could
 * be measured.
 */
export async function peakMemoryMb(processes: LaunchedRuntime[]): Promise<number | undefined> {
  const peaks = await Promise.all(processes.map((process) => process.peakMemoryBytes().catch(() => undefined)));
  const known = peaks.filter((peak) => peak !== undefined);
  if (known.length === 0) return undefined;
  return Math.ceil(known.reduce((sum, peak) => sum + peak, 0) / (1024 * 1024));
}
