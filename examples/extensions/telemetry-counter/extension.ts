// An external extension that counts what the Telemetry API reports:
// invocations, errors, billed milliseconds, peak memory and log lines. It
// keeps the counts in $TELEMETRY_COUNTER_FILE (default /tmp/telemetry-counter.json)
// after every batch and prints them when the environment shuts down.
import { writeFile } from 'node:fs/promises';
import { isRecordOf, runExtension } from 'lambda-kit/extension';

const file = process.env.TELEMETRY_COUNTER_FILE ?? '/tmp/telemetry-counter.json';
const counts = { invokes: 0, invokeEvents: 0, errors: 0, billedMs: 0, maxMemoryUsedMB: 0, logLines: 0, records: 0 };

await runExtension({
  onInvoke: () => {
    counts.invokeEvents++;
  },
  onShutdown: (event) => {
    console.log(`telemetry-counter: ${event.shutdownReason}: ${JSON.stringify(counts)}`);
  },
  telemetry: {
    types: ['platform', 'function'],
    buffering: { timeoutMs: 100 },
    processor: async (records) => {
      counts.records += records.length;
      for (const report of records.filter(isRecordOf('platform.report'))) {
        counts.invokes++;
        if (report.record.status !== 'success') counts.errors++;
        counts.billedMs += report.record.metrics.billedDurationMs;
        counts.maxMemoryUsedMB = Math.max(counts.maxMemoryUsedMB, report.record.metrics.maxMemoryUsedMB);
      }
      counts.logLines += records.filter(isRecordOf('function')).length;
      await writeFile(file, JSON.stringify(counts));
    },
  },
});
