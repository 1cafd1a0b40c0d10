import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// Smoke runs of the benchmarks with tiny counts, so the harnesses keep working; the figures are not checked.
const bench = (file: string) => fileURLToPath(new URL(`../../bench/${file}`, import.meta.url));
const cleanup: string[] = [];
afterAll(async () => Promise.all(cleanup.map((dir) => rm(dir, { recursive: true, force: true }))));

/** The rows of the markdown table that follows `## <n>. <title>`, header first. */
function tableOf(markdown: string, title: string): string[][] {
  const section = markdown.split(/^## /m).find((part) => new RegExp(`^(\\d+\\. )?${title}\\n`).test(part));
  if (!section) throw new Error(`no section "${title}" in:\n${markdown}`);
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|[-:|]+\|$/.test(line))
    .map((line) => line.slice(2, -2).split(' | '));
}

const FIGURE = /\d/;

describe('npm run bench (bench/index.ts)', () => {
  it('runs every section in smoke mode and writes their tables and the targets to --out', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-bench-smoke-'));
    cleanup.push(dir);
    const out = join(dir, 'latest.md');
    // Asynchronous, so that the test's own process stays free (the harness times loops on loopback).
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bench('index.ts'), '--smoke', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (data: Buffer) => (stderr += data.toString('utf8')));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    expect(code, stderr).toBe(0);
    const markdown = await readFile(out, 'utf8');
    expect(markdown).toMatch(/^# lambda-kit benchmarks\n\nNode v\d+\.\d+\.\d+ · .+ · \d+ cores · .+ · smoke run/);

    const warm = tableOf(markdown, 'Warm loop');
    expect(warm.map((row) => row[0])).toEqual([
      'runtime process',
      'lambda-kit runtime (bundle)',
      'aws-lambda-ric 4.x',
      'raw node:net loop, onread (ceiling)',
      "raw node:net loop, 'data' events",
    ]);
    for (const row of warm.slice(1)) for (const cell of row.slice(1)) expect(cell).toMatch(FIGURE);

    const cold = tableOf(markdown, 'Cold start');
    expect(cold.map((row) => row[0])).toEqual(
      expect.arrayContaining(['bare `node -e 0` (to exit)', 'our bundle, `node index.mjs`', 'our bundle as shipped (SEA bootstrap)']),
    );
    for (const row of cold.slice(1)) expect(row[1]).toMatch(/^\d+\.\d$/);

    const emulator = tableOf(markdown, 'Emulator');
    // A smoke run leaves RIE out (RIE_BINARY or aws-lambda-rie on PATH bring it into a full run).
    expect(emulator.map((row) => row[0])).toEqual(['emulator', 'lambda-kit']);
    expect(emulator[1]!.slice(1)).toEqual([expect.stringMatching(FIGURE), 'n/a', ...Array(6).fill(expect.stringMatching(FIGURE))]);
    expect(emulator[1]![8]).toBe('0');
    expect(markdown).toMatch(/RIE skipped: smoke run\./);

    const build = tableOf(markdown, 'Build');
    expect(build[1]![0]).toMatch(/zip \(self-contained\)/);
    expect(build[1]!.slice(1).every((cell) => /\d+\.\d\d s|MB/.test(cell))).toBe(true);
    expect(markdown).toMatch(/Images: smoke run: Docker parts skipped/);

    const sizes = tableOf(markdown, 'Sizes');
    expect(sizes.map((row) => row[0])).toEqual(expect.arrayContaining(['runtime loop (`runtime/index.ts`)', 'hello thin zip']));
    for (const row of sizes.slice(1)) expect(row[2]).toMatch(/^[\d,]+$/);

    const memory = tableOf(markdown, 'Memory');
    expect(memory).toHaveLength(6);
    for (const row of memory.slice(1)) expect(row[1]).toMatch(/^\d+\.\d$/);

    const targets = tableOf(markdown, 'Targets');
    expect(targets[0]).toEqual(['what', 'measured', 'target', 'measured / target', 'met']);
    expect(targets.map((row) => row[0]).slice(1)).toEqual([
      'warm throughput, lambda-kit / raw loop',
      'runtime CPU per invoke, lambda-kit / aws-lambda-ric',
      'cold start to first /next vs bare `node -e 0`',
      'emulator: invokes answered at 8 concurrent callers',
      expect.stringMatching(/^hello build, warm/),
      'hello thin zip',
    ]);
    for (const row of targets.slice(1)) {
      expect(row[1]).toMatch(FIGURE);
      expect(row[3]).toMatch(/^\d+\.\d\d$/);
      expect(row[4]).toMatch(/^[✓✗]$/);
    }
  });
});

describe('npm run bench:clients (bench/runtime-client.ts)', () => {
  it('runs the Runtime API client comparison end to end', () => {
    const result = spawnSync(process.execPath, [bench('runtime-client.ts')], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_COLD_RUNS: '1', BENCH_WARM_INVOKES: '20', BENCH_NO_WRITE: '1' },
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const rows = result.stdout.split('\n').filter((line) => /^\| (lambda-kit|node:http|fetch|undici)/.test(line));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(row).toMatch(/\| \d+\.\d \| \d+ \| \d+\.\d \|/);
  });
});
