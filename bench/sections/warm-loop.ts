/**
 * 1. Warm loop: one runtime process, the same trivial handler, the same lean
 * Runtime API on 127.0.0.1, side by side: our bundled runtime, AWS's
 * aws-lambda-ric 4.x, and a raw node:net loop (the ceiling). Rounds rotate the
 * order; ratios are taken within a round, then their median.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLeanRuntimeApi, type LeanRuntimeApi } from '../lean-runtime-api.ts';
import {
  bundleTrivialFunction,
  median,
  num,
  onCpu,
  percentile,
  pinSelf,
  pinnedCpu,
  processCpuMicros,
  rawLoopEntry,
  requireRic,
  ricEntry,
  startRuntimeOn,
  stopRuntimeOn,
  times,
  trivialTaskRoot,
  unlessExited,
  type BenchSection,
  type BenchTarget,
  type SectionOptions,
} from '../support.ts';

interface Contender {
  name: string;
  command: string[];
  taskRoot: string;
}

interface Run {
  rate: number;
  /** Runtime CPU µs per invoke (all its processes). */
  cpu: number;
  /** The harness's (the server's) CPU µs per invoke, and its share of the wall time. */
  serverCpu: number;
  serverBusy: number;
  latenciesMs: Float64Array;
  turnaroundsMs: Float64Array;
}

const TARGET_THROUGHPUT = 0.9;
const TARGET_CPU = 0.5;

async function measure(api: LeanRuntimeApi, contender: Contender, cpu: number | undefined, warmup: number, invokes: number): Promise<Run> {
  const runtime = await startRuntimeOn(api, contender.name, onCpu(cpu, contender.command), contender.taskRoot, warmup);
  try {
    const cpuBefore = processCpuMicros(runtime.pid);
    const serverBefore = process.cpuUsage();
    const window = await unlessExited(runtime, contender.name, api.serve(invokes));
    const server = process.cpuUsage(serverBefore);
    const used = processCpuMicros(runtime.pid) - cpuBefore;
    if (window.errors > 0) throw new Error(`${contender.name} answered ${window.errors} invocations with an error: ${runtime.stderr()}`);
    const serverMicros = server.user + server.system;
    return {
      rate: invokes / (window.wallMs / 1000),
      cpu: used / invokes,
      serverCpu: serverMicros / invokes,
      serverBusy: serverMicros / 1000 / window.wallMs,
      latenciesMs: window.latenciesMs,
      turnaroundsMs: window.turnaroundsMs,
    };
  } finally {
    await stopRuntimeOn(api, runtime);
  }
}

export async function warmLoop(options: SectionOptions): Promise<BenchSection> {
  requireRic();
  const warmup = options.smoke ? 50 : 2_000;
  const invokes = options.smoke ? 200 : 20_000;
  // Five: each round starts fresh processes, and a process settles on one side of the scheduling cliff (README) or the other.
  const rounds = options.smoke ? 1 : 5;
  const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-bench-warm-'));
  const cpu = pinnedCpu();
  const unpin = cpu === undefined ? () => {} : pinSelf(cpu);
  const api = await startLeanRuntimeApi({ hold: true });
  try {
    const bundle = await bundleTrivialFunction(dir);
    const node = process.execPath;
    const ours: Contender = { name: 'lambda-kit runtime (bundle)', command: [node, bundle], taskRoot: dir };
    const ric: Contender = { name: 'aws-lambda-ric 4.x', command: [node, ricEntry], taskRoot: trivialTaskRoot };
    const raw: Contender = { name: 'raw node:net loop, onread (ceiling)', command: [node, rawLoopEntry], taskRoot: trivialTaskRoot };
    // The same loop reading 'data' events: what the ceiling was before the runtime moved to onread.
    const rawData: Contender = {
      name: "raw node:net loop, 'data' events",
      command: [node, rawLoopEntry, 'data'],
      taskRoot: trivialTaskRoot,
    };
    const contenders = [ours, ric, raw, rawData];
    const runs = new Map<Contender, Run[]>(contenders.map((contender) => [contender, []]));
    for (let round = 0; round < rounds; round++) {
      // Rotated, so that no contender always runs first (or right after another).
      for (let i = 0; i < contenders.length; i++) {
        const contender = contenders[(i + round) % contenders.length]!;
        runs.get(contender)!.push(await measure(api, contender, cpu, warmup, invokes));
      }
    }

    const perRound = (of: (run: Run) => number, a: Contender, b: Contender) =>
      median(runs.get(a)!.map((run, round) => of(run) / of(runs.get(b)![round]!)));
    const throughputVsRaw = perRound((run) => run.rate, ours, raw);
    const throughputVsRic = perRound((run) => run.rate, ours, ric);
    const cpuVsRic = perRound((run) => run.cpu, ours, ric);
    const rawCpuVsRic = perRound((run) => run.cpu, raw, ric);
    const throughputVsRawData = perRound((run) => run.rate, ours, rawData);
    const vsRaw = new Map([
      [ours, throughputVsRaw],
      [ric, perRound((run) => run.rate, ric, raw)],
      [raw, 1],
      [rawData, perRound((run) => run.rate, rawData, raw)],
    ]);
    const vsRic = new Map([
      [ours, cpuVsRic],
      [ric, 1],
      [raw, rawCpuVsRic],
      [rawData, perRound((run) => run.cpu, rawData, ric)],
    ]);

    const table: string[][] = [
      [
        'runtime process',
        'invokes/s',
        'vs raw loop',
        'p50 µs',
        'p99 µs',
        'turnaround p50 µs',
        'runtime CPU µs/invoke',
        'CPU vs RIC',
        'server CPU µs/invoke',
        'server busy',
      ],
    ];
    for (const [contender, list] of runs) {
      const latencies = list.flatMap((run) => Array.from(run.latenciesMs));
      table.push([
        contender.name,
        num(median(list.map((run) => run.rate))),
        times(vsRaw.get(contender)!),
        num(percentile(latencies, 50) * 1000),
        num(percentile(latencies, 99) * 1000),
        num(
          percentile(
            list.flatMap((run) => Array.from(run.turnaroundsMs)),
            50,
          ) * 1000,
        ),
        num(median(list.map((run) => run.cpu)), 1),
        times(vsRic.get(contender)!),
        num(median(list.map((run) => run.serverCpu)), 1),
        `${num(median(list.map((run) => run.serverBusy)) * 100)}%`,
      ]);
    }
    const rawRate = median(runs.get(raw)!.map((run) => run.rate));
    const rawServerCpu = median(runs.get(raw)!.map((run) => run.serverCpu));
    const rawBusy = median(runs.get(raw)!.map((run) => run.serverBusy));
    const targets: BenchTarget[] = [
      {
        what: 'warm throughput, lambda-kit / raw loop',
        measured: times(throughputVsRaw),
        target: `>= ${times(TARGET_THROUGHPUT)}`,
        ratio: throughputVsRaw / TARGET_THROUGHPUT,
        met: throughputVsRaw >= TARGET_THROUGHPUT,
      },
      {
        what: 'runtime CPU per invoke, lambda-kit / aws-lambda-ric',
        measured: times(cpuVsRic),
        target: `<= ${times(TARGET_CPU)}`,
        ratio: cpuVsRic / TARGET_CPU,
        met: cpuVsRic <= TARGET_CPU,
      },
    ];
    return {
      title: 'Warm loop',
      intro:
        `One runtime process, the trivial handler (\`bench/fixtures/trivial/index.mjs\`), the lean Runtime API ` +
        `(\`bench/lean-runtime-api.ts\`, in the harness's process) on 127.0.0.1; ${num(warmup)} warm-up invokes, then ` +
        `${num(invokes)} measured, ${rounds} round(s) in rotated order (medians; ratios within a round). Latency: from /next ` +
        'answered to /response received, at the server; turnaround: from the 202 for a /response written to the next ' +
        'GET /next received (the runtime between invocations). Runtime CPU: utime+stime of the runtime process from /proc over the ' +
        "measured window. lambda-kit runs as it ships (the build kit's bundle, `node index.mjs`, which maps its own stack traces); " +
        'aws-lambda-ric as `node node_modules/aws-lambda-ric/index.mjs` with `_HANDLER=index.handler`.',
      table,
      targets,
      notes: [
        `Against the raw loop on 'data' events (the idiomatic read path, which the runtime also used before), lambda-kit gets ` +
          `${times(throughputVsRawData)} the throughput; the ceiling reads through onread, as the runtime does now.`,
        `lambda-kit / aws-lambda-ric: ${times(throughputVsRic)} the throughput, ${times(cpuVsRic)} the CPU per invoke; ` +
          `the raw loop spends ${times(rawCpuVsRic)} of RIC's CPU per invoke.`,
        `The server is not the bottleneck: under the raw loop it spends ${num(rawServerCpu, 1)} µs of CPU per invoke, so on a ` +
          `CPU of its own it could serve about ${num(1e6 / rawServerCpu)} invokes/s; the raw loop gets ${num(rawRate)}/s out of it ` +
          `(${num(rawBusy * 100)}% of that capacity): the rest of each round trip is the loop's own work and the kernel's.`,
        cpu === undefined
          ? 'Unpinned (BENCH_PIN=off or no taskset): the scheduler placed the processes; across vCPUs each wakeup costs far more.'
          : `The server (the harness) and each runtime process run pinned to CPU ${cpu} (taskset): on this VM a wakeup across ` +
            'vCPUs costs 50-80 µs of CPU, and unpinned runs flip between that and the same-CPU case from run to run ' +
            '(BENCH_PIN=off shows it).',
      ],
    };
  } finally {
    await api.close();
    unpin();
    await rm(dir, { recursive: true, force: true });
  }
}
