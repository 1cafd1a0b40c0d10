import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

// A smoke run of the client benchmark with tiny counts, so the harness keeps working; the figures are not checked.
it('runs the Runtime API client benchmark end to end', () => {
  const result = spawnSync(process.execPath, [fileURLToPath(new URL('../../bench/runtime-client.ts', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_COLD_RUNS: '1', BENCH_WARM_INVOKES: '20', BENCH_NO_WRITE: '1' },
    timeout: 60_000,
  });
  expect(result.status, result.stderr).toBe(0);
  const rows = result.stdout.split('\n').filter((line) => /^\| (lambda-kit|node:http|fetch|undici)/.test(line));
  expect(rows).toHaveLength(4);
  for (const row of rows) expect(row).toMatch(/\| \d+\.\d \| \d+ \| \d+\.\d \|/);
});
