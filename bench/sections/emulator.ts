/**
 * 3. Emulator: the real Emulator serving the trivial function (a command
 * source: this Node running the kit's bundle of it), invoked through the
 * Invoke API over HTTP with undici, one caller at a time and 8 at once; the
 * same bundle under AWS's Runtime Interface Emulator beside it, when this
 * machine has one (bench/rie.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'undici';
import { invokePath } from '../../runtime/protocol/index.ts';
import { Emulator } from '../../src/emulator/emulator.ts';
import { peakTreeMemory } from '../../src/emulator/launchers/process-launcher.ts';
import { findRie, startRie } from '../rie.ts';
import {
  bundleTrivialFunction,
  median,
  num,
  percentile,
  sleep,
  times,
  type BenchSection,
  type BenchTarget,
  type SectionOptions,
} from '../support.ts';

const CALLERS = 8;
const PAYLOAD = '{"firstName":"Ada"}';
const ANSWER = '{"message":"Hello, world!"}';

/** One invoke of the trivial function: its latency in ms, or undefined when it failed (any status but 200, any other body, no answer). */
async function invokeOnce(client: Client, path: string): Promise<number | undefined> {
  const started = performance.now();
  try {
    const response = await client.request({ method: 'POST', path, body: PAYLOAD });
    const body = await response.body.text();
    if (response.statusCode !== 200 || response.headers['x-amz-function-error'] || body !== ANSWER) return undefined;
  } catch {
    return undefined;
  }
  return performance.now() - started;
}

interface Driven {
  /** Answered invokes per second. */
  rate: number;
  latencies: number[];
  errors: number;
}

/** One caller: `count` invokes in a row on its own kept-alive connection. */
async function caller(endpoint: string, path: string, count: number): Promise<{ latencies: number[]; errors: number }> {
  const client = new Client(endpoint);
  const latencies: number[] = [];
  let errors = 0;
  try {
    for (let i = 0; i < count; i++) {
      const latency = await invokeOnce(client, path);
      if (latency === undefined) errors++;
      else latencies.push(latency);
    }
  } finally {
    await client.destroy();
  }
  return { latencies, errors };
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
      invokes.push((await invokeOnce(client, invokePath('bench'))) ?? Number.NaN);
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

/** `callers` callers at once, `each` invokes each. */
async function drive(endpoint: string, path: string, callers: number, each: number): Promise<Driven> {
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: callers }, () => caller(endpoint, path, each)));
  const latencies = results.flatMap((result) => result.latencies);
  const errors = results.reduce((sum, result) => sum + result.errors, 0);
  return { rate: latencies.length / ((performance.now() - started) / 1000), latencies, errors };
}

interface Contender {
  name: string;
  one: Driven;
  many: Driven;
  note?: string;
}

/** lambda-kit's emulator, 8 environments of the function: warmed up, then sequential, then 8 callers. */
async function lambdaKit(bundle: string, dir: string, sequential: number, each: number, warmup: number) {
  const running = await Emulator.start({
    functions: [{ name: 'bench', source: { command: [process.execPath, bundle], taskRoot: dir }, maxEnvironments: CALLERS }],
    // START/END/REPORT lines are made for every invoke; printing them is not what is measured.
    log: () => {},
  });
  try {
    const path = invokePath('bench');
    // Warm-up: every environment started (cold starts are section 2's business), the code paths hot.
    await drive(running.endpoint, path, CALLERS, warmup);
    const environments = running.pool('bench')!.environmentCount;
    const one = await drive(running.endpoint, path, 1, sequential);
    const many = await drive(running.endpoint, path, CALLERS, each);
    const scan = await memoryScan(running.endpoint, warmup * 2);
    return { contender: { name: 'lambda-kit', one, many } satisfies Contender, environments, scan };
  } finally {
    await running.close();
  }
}

/** The same bundle under AWS's RIE (one environment, as RIE has): warmed up, then sequential, then 8 callers. */
async function rie(binary: string, bundle: string, dir: string, sequential: number, each: number, warmup: number): Promise<Contender> {
  const running = await startRie(binary, [process.execPath, bundle], dir);
  try {
    await drive(running.endpoint, running.path, 1, warmup);
    const one = await drive(running.endpoint, running.path, 1, sequential);
    const many = await drive(running.endpoint, running.path, CALLERS, each);
    const panic = /^panic: .*$/m.exec(running.stderr())?.[0];
    const note = running.exited()
      ? `RIE exited during the ${CALLERS} callers${panic ? ` (\`${panic.slice(0, 200)}\`)` : ''}; the invokes after that failed.`
      : panic
        ? `RIE logged \`${panic.slice(0, 200)}\` during the ${CALLERS} callers.`
        : undefined;
    return { name: 'aws-lambda-rie', one, many, ...(note !== undefined && { note }) };
  } finally {
    await running.stop();
  }
}

export async function emulator(options: SectionOptions): Promise<BenchSection> {
  const sequential = options.smoke ? 20 : 2_000;
  const each = options.smoke ? 5 : 500;
  const warmup = options.smoke ? 2 : 50;
  const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-bench-emulator-'));
  try {
    const bundle = await bundleTrivialFunction(dir);
    const ours = await lambdaKit(bundle, dir, sequential, each, warmup);
    const binary = options.smoke ? undefined : findRie();
    const theirs = binary === undefined ? undefined : await rie(binary, bundle, dir, sequential, each, warmup);
    const contenders = [ours.contender, ...(theirs ? [theirs] : [])];
    const ms = (values: number[], p: number) => num(percentile(values, p), 2);
    const table = [
      [
        'emulator',
        'sequential invokes/s',
        'vs RIE',
        'seq. p50 ms',
        'seq. p99 ms',
        `${CALLERS} at once: invokes/s`,
        `${CALLERS}× p50 ms`,
        `${CALLERS}× p99 ms`,
        `${CALLERS}× errors`,
      ],
      ...contenders.map((contender) => [
        contender.name,
        num(contender.one.rate),
        theirs ? times(contender.one.rate / theirs.one.rate) : 'n/a',
        ms(contender.one.latencies, 50),
        ms(contender.one.latencies, 99),
        num(contender.many.rate),
        ms(contender.many.latencies, 50),
        ms(contender.many.latencies, 99),
        num(contender.many.errors),
      ]),
    ];
    const attempted = CALLERS * each;
    const targets: BenchTarget[] = [];
    if (theirs) {
      const ratio = ours.contender.one.rate / theirs.one.rate;
      targets.push({
        what: 'emulator: sequential invokes/s, lambda-kit / RIE',
        measured: times(ratio),
        target: '>= 3.00x',
        ratio: ratio / 3,
        met: ratio >= 3,
      });
    }
    const answered = attempted - ours.contender.many.errors;
    targets.push({
      what: `emulator: invokes answered at ${CALLERS} concurrent callers`,
      measured: `${num(answered)} of ${num(attempted)}`,
      target: 'all',
      ratio: answered / attempted,
      met: answered === attempted,
    });
    return {
      title: 'Emulator',
      intro:
        "The Emulator (`src/emulator`) with one trivial function: a command source, this Node running the kit's bundle of " +
        `\`bench/fixtures/trivial/index.mjs\`, maxEnvironments ${CALLERS}; AWS's Runtime Interface Emulator, when found, running the same ` +
        'bundle as its bootstrap on 127.0.0.1 (one environment, as RIE has). Callers POST to the Invoke API over HTTP ' +
        '(undici `Client`, one kept-alive connection each); latency from request to the whole answer, at the caller; an error is ' +
        "any answer but a 200 with the function's result, or none. " +
        `Each warmed up first (lambda-kit: ${ours.environments} environments started), then ${num(sequential)} sequential invokes, ` +
        `then ${CALLERS} callers at once (${num(each)} each); invokes/s counts answered invokes.`,
      table,
      targets,
      notes: [
        theirs
          ? `RIE: ${binary}.`
          : options.smoke
            ? 'RIE skipped: smoke run.'
            : 'RIE not found: set RIE_BINARY or put aws-lambda-rie on PATH (the benchmark does not build it); its row and ratio are left out.',
        ...(theirs?.note ? [theirs.note] : []),
        `Each invoke's REPORT line (which the answer waits for, when no extension is registered) takes Max Memory Used ` +
          `from the process launcher's peakTreeMemory, which follows the runtime's own tree down /proc/<pid>/task/*/children ` +
          `(it used to read the stat of every process on the machine, ${ours.scan.processes} here, for about 4.4 ms a call): ` +
          `${num(ours.scan.scanMs, 2)} ms a call (median), against ` +
          `${num(ours.scan.invokeMs, 2)} ms for a whole invoke (median), measured in turn.`,
        `With ${CALLERS} callers each has an environment of its own; on this machine's cores they share the CPU with the ` +
          "emulator, so the rate shows the emulator's overhead per invoke rather than parallel speed-up.",
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
