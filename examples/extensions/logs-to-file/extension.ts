// An external extension: the function's log lines, appended to a file as they
// arrive through the Telemetry API ($LOGS_TO_FILE_DIR, default /tmp/lambda-logs,
// one <function name>.log). It registers for SHUTDOWN only, so invocations
// never wait for it.
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isRecordOf, runExtension } from 'lambda-kit/extension';

const dir = process.env.LOGS_TO_FILE_DIR ?? '/tmp/lambda-logs';
let file = join(dir, 'function.log');

await runExtension({
  onInit: async (registration) => {
    await mkdir(dir, { recursive: true });
    file = join(dir, `${registration.functionName}.log`);
  },
  telemetry: {
    types: ['function'],
    buffering: { timeoutMs: 100 },
    processor: async (records) => {
      const lines = records
        .filter(isRecordOf('function'))
        .map((entry) => `${entry.time} ${typeof entry.record === 'string' ? entry.record : JSON.stringify(entry.record)}\n`);
      if (lines.length > 0) await appendFile(file, lines.join(''));
    },
  },
});
