/**
 * 6. Memory: the resident set (VmRSS) of an idle runtime process (after init
 * and its first invokes, waiting on /next) against bare Node on the same
 * binary, and against the other two warm-loop contenders idle the same way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLeanRuntimeApi, type LeanRuntimeApi } from '../lean-runtime-api.ts';
import {
  bundleTrivialFunction,
  median,
  num,
  processRssKb,
  rawLoopEntry,
  requireRic,
  ricEntry,
  sleep,
  startRuntimeOn,
  stopRuntimeOn,
  times,
  trivialTaskRoot,
  type BenchSection,
  type SectionOptions,
} from '../support.ts';

/** Lets an idle process settle (lazy allocations, a GC) before its RSS is read. */
const SETTLE_MS = 300;

/** RSS in KB of `command` once idle: after `invokes` invocations (none: a process that takes none). */
async function idleRss(api: LeanRuntimeApi, command: string[], taskRoot: string, invokes: number): Promise<number> {
  const runtime = await startRuntimeOn(api, command.join(' '), command, taskRoot, invokes);
  try {
    await sleep(SETTLE_MS);
    return processRssKb(runtime.pid);
  } finally {
    await stopRuntimeOn(api, runtime);
  }
}

export async function memory(options: SectionOptions): Promise<BenchSection> {
  requireRic();
  const samples = options.smoke ? 1 : 5;
  const invokes = options.smoke ? 3 : 100;
  const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-bench-memory-'));
  const api = await startLeanRuntimeApi({ hold: true });
  try {
    const bundle = await bundleTrivialFunction(dir);
    const node = process.execPath;
    const contenders: Array<[string, string[], string, number]> = [
      ['bare node (`node -e "setInterval(() => {}, 1000)"`)', [node, '-e', 'setInterval(() => {}, 1000)'], trivialTaskRoot, 0],
      ['raw node:net loop, waiting on /next', [node, rawLoopEntry], trivialTaskRoot, invokes],
      ['lambda-kit runtime (bundle), waiting on /next', [node, bundle], dir, invokes],
      ["the same under Node's own source maps (--enable-source-maps)", [node, '--enable-source-maps', bundle], dir, invokes],
      ['aws-lambda-ric 4.x, waiting on /next', [node, ricEntry], trivialTaskRoot, invokes],
    ];
    const rss = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
    // Interleaved, so that a change on the machine meanwhile touches every contender alike.
    for (let i = 0; i < samples; i++) {
      for (const [name, command, taskRoot, count] of contenders) rss.get(name)!.push(await idleRss(api, command, taskRoot, count));
    }
    const bare = median(rss.get(contenders[0]![0])!);
    const raw = median(rss.get(contenders[1]![0])!);
    const ours = median(rss.get(contenders[2]![0])!);
    const nodeMaps = median(rss.get(contenders[3]![0])!);
    const table = [['process', 'RSS MB (median)', 'min-max MB', 'vs bare node']];
    for (const [name] of contenders) {
      const values = rss.get(name)!;
      const value = median(values);
      table.push([
        name,
        num(value / 1024, 1),
        `${num(Math.min(...values) / 1024, 1)}-${num(Math.max(...values) / 1024, 1)}`,
        times(value / bare),
      ]);
    }
    return {
      title: 'Memory',
      intro:
        `VmRSS from /proc/<pid>/status of one process on this Node (${process.version}), read ${SETTLE_MS} ms after it went idle: ` +
        `the runtimes after init and ${invokes} invokes of the trivial handler, waiting on /next of the lean Runtime API; ` +
        `median of ${samples} run(s) each, interleaved.`,
      table,
      targets: [],
      notes: [
        `The idle lambda-kit runtime holds ${num((ours - bare) / 1024, 1)} MB more than bare Node (${times(ours / bare)}), ` +
          `${num((ours - raw) / 1024, 1)} MB more than the raw loop (Node, its ESM loader and a socket); ` +
          `Node's own source maps would add ${num((nodeMaps - ours) / 1024, 1)} MB: they load Node's source-map support ` +
          "and read the bundle's map at start, where the bundle maps its stack traces itself, on the first one formatted.",
      ],
    };
  } finally {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  }
}
