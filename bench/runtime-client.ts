// Which HTTP client should the runtime use for the Runtime API? Measures, side by side in one run:
// cold start (spawn to first GET /next, median) and warm throughput + CPU per invoke of one process.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startLeanRuntimeApi } from './lean-runtime-api.ts';

const CLIENTS = ['lambda-kit (node:net)', 'node:http', 'fetch (undici in node core)', 'undici (npm) Client'];
const child = fileURLToPath(new URL('./runtime-client-child.ts', import.meta.url));
const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? 15);
const warmInvokes = Number(process.env.BENCH_WARM_INVOKES ?? 20000);

const api = await startLeanRuntimeApi();

function runChild(client: string, count: number): Promise<{ startedAt: number; cpuMicros: number; loopMs: number }> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.timeOrigin + performance.now();
    const process_ = spawn(process.execPath, [child, client, String(count), api.authority], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    process_.stdout.on('data', (data) => (out += data));
    process_.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`${client} exited ${code}`));
      resolve({ startedAt, ...JSON.parse(out) });
    });
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const rows: string[] = [];
const results: Record<string, { cold: number; rate: number; cpu: number }> = {};
for (const client of CLIENTS) {
  const colds: number[] = [];
  for (let i = 0; i < coldRuns; i++) {
    api.reset();
    const { startedAt } = await runChild(client, 1);
    colds.push(api.firstNextAt()! - startedAt);
  }
  // One warm-up process, then the measured one.
  await runChild(client, 200);
  api.reset();
  const warm = await runChild(client, warmInvokes);
  results[client] = {
    cold: median(colds),
    rate: (warmInvokes - 1) / (warm.loopMs / 1000),
    cpu: warm.cpuMicros / (warmInvokes - 1),
  };
}
api.server.close();

const ours = results[CLIENTS[0]!]!;
rows.push('| client | cold start to first /next (median ms) | invokes/s | CPU µs per invoke | cold vs ours | invokes/s vs ours |');
rows.push('|---|---:|---:|---:|---:|---:|');
for (const client of CLIENTS) {
  const r = results[client]!;
  rows.push(
    `| ${client} | ${r.cold.toFixed(1)} | ${r.rate.toFixed(0)} | ${r.cpu.toFixed(1)} | ${(r.cold / ours.cold).toFixed(2)}x | ${(r.rate / ours.rate).toFixed(2)}x |`,
  );
}
const table = `Runtime API client comparison (Node ${process.version}, ${coldRuns} cold runs each, ${warmInvokes} warm invokes after the first; runtime process CPU only)\n\n${rows.join('\n')}\n`;
console.log(table);
if (!process.env.BENCH_NO_WRITE) {
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(fileURLToPath(new URL('./results/runtime-client.md', import.meta.url)), table);
}
