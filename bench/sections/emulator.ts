/**
 * 3. Emulator: the real Emulator serving the trivial function (a command
 * source: this Node running the kit's bundle of it), invoked through the
 * Invoke API over HTTP with undici, one caller at a time and 8 at once.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { Emulator } from '../../src/emulator/emulator.ts';
import { peakTreeMemory } from '../../src/emulator/launchers/process-launcher.ts';
import { bundleTrivialFunction, median, num, percentile, sleep, type BenchSection, type SectionOptions } from '../support.ts';

const CALLERS = 8;
const PAYLOAD = '{"firstName":"Ada"}';

/** One invoke of the trivial function; its latency in ms. */
async function invokeOnce(client: Client): Promise<number> {
  const started = performance.now();
  const response = await client.request({ method: 'POST', path: '/2015-03-31/functions/bench/invocations', body: PAYLOAD });
  const body = await response.body.text();
  if (response.statusCode !== 200 || response.headers['x-amz-function-error']) {
    throw new Error(`the emulator answered ${response.statusCode}: ${body}`);
  }
  return performance.now() - started;
}

/** One caller: `count` invokes in a row on its own kept-alive connection; latencies in ms. */
async function caller(endpoint: string, count: number): Promise<number[]> {
  const client = new Client(endpoint);
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) latencies.push(await invokeOnce(client));
  } finally {
    await client.close();
  }
  return latencies;
}

/**
 * What the REPORT line's Max Memory Used costs: the process launcher's
 * peakTreeMemory, which follows the runtime's own process tree down
 * /proc/<pid>/task/<tid>/children (it used to read /proc/<pid>/stat of every
 * process on the machine). Called for an idle process with
 * no children, as a runtime is, in turn with sequential invokes, so that both
 * medians are taken under the same conditions.
 */
async function memoryScan(endpoint: string, rounds: number): Promise<{ scanMs: number; invokeMs: number; processes: number }> {
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const client = new Client(endpoint);
  try {
    // Its start-up done, so that it is idle like a runtime between invokes.
    await sleep(300);
    const processes = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).length;
    const scans: number[] = [];
    const invokes: number[] = [];
    for (let i = 0; i < rounds; i++) {
      invokes.push(await invokeOnce(client));
      const started = performance.now();
      await peakTreeMemory(idle.pid!);
      scans.push(performance.now() - started);
    }
    return { scanMs: median(scans), invokeMs: median(invokes), processes };
  } finally {
    idle.kill('SIGKILL');
    await client.close();
  }
}

/** `callers` callers at once, `each` invokes each: invokes/s over the whole and every latency. */
async function drive(endpoint: string, callers: number, each: number): Promise<{ rate: number; latencies: number[] }> {
  const started = performance.now();
  const latencies = (await Promise.all(Array.from({ length: callers }, () => caller(endpoint, each)))).flat();
  return { rate: latencies.length / ((performance.now() - started) / 1000), latencies };
}

export async function emulator(options: SectionOptions): Promise<BenchSection> {
  const sequential = options.smoke ? 20 : 2_000;
  const each = options.smoke ? 5 : 500;
  const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-bench-emulator-'));
  let running: Emulator | undefined;
  try {
    const bundle = await bundleTrivialFunction(dir);
    running = await Emulator.start({
      functions: [
        {
          name: 'bench',
          source: { command: [process.execPath, bundle], taskRoot: dir },
          maxEnvironments: CALLERS,
        },
      ],
      // START/END/REPORT lines are made for every invoke; printing them is not what is measured.
      log: () => {},
    });
    const endpoint = running.endpoint;
    // Warm-up: every environment started (cold starts are section 2's business), the code paths hot.
    await drive(endpoint, CALLERS, options.smoke ? 2 : 50);
    const environments = running.pool('bench')!.environmentCount;
    const one = await drive(endpoint, 1, sequential);
    const many = await drive(endpoint, CALLERS, each);
    const scan = await memoryScan(endpoint, options.smoke ? 5 : 100);
    const row = (what: string, count: number, result: { rate: number; latencies: number[] }) => [
      what,
      num(count),
      num(result.rate),
      num(percentile(result.latencies, 50), 2),
      num(percentile(result.latencies, 99), 2),
    ];
    return {
      title: 'Emulator',
      intro:
        "The Emulator (`src/emulator`) with one trivial function: a command source, this Node running the kit's bundle of " +
        `\`bench/fixtures/trivial/index.mjs\`, maxEnvironments ${CALLERS}. Callers POST to the Invoke API over HTTP ` +
        '(undici `Client`, one kept-alive connection each); latency from request to the whole answer, at the caller. ' +
        `Warmed up first (${environments} environments started).`,
      table: [
        ['callers', 'invokes', 'invokes/s', 'p50 ms', 'p99 ms'],
        row('1 (sequential)', sequential, one),
        row(`${CALLERS} at once`, CALLERS * each, many),
      ],
      targets: [],
      notes: [
        `Each invoke's REPORT line (which the answer waits for, when no extension is registered) takes Max Memory Used ` +
          `from the process launcher's peakTreeMemory, which follows the runtime's own tree down /proc/<pid>/task/*/children ` +
          `(it used to read the stat of every process on the machine, ${scan.processes} here, for about 4.4 ms a call): ` +
          `${num(scan.scanMs, 2)} ms a call (median), against ` +
          `${num(scan.invokeMs, 2)} ms for a whole invoke (median), measured in turn.`,
        `With ${CALLERS} callers each has an environment of its own; on this machine's cores they share the CPU with the ` +
          "emulator, so the rate shows the emulator's overhead per invoke rather than parallel speed-up.",
      ],
    };
  } finally {
    await running?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
