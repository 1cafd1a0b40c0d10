/**
 * `npm run soak`: the emulator soak at full size (test/emulator/soak-harness.ts
 * holds it; `npm test` runs a small version): 10,000 invokes from 8 callers
 * over a process, a zip and a container image function, with crashes,
 * timeouts, mid-stream exits and oversize answers at fixed rates. Writes its
 * figures to bench/results/soak.md (or --out FILE) and exits 1 when the soak
 * found a problem.
 *
 *   node bench/soak.ts [--out FILE] [--invokes N] [--no-image] [--every fault=N]...
 *
 * --every sets one fault's rate (one invoke in N; 0 for none), e.g.
 * --every stream-exit=0; the report says which rates it ran with.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { FunctionDefinition } from '../src/emulator/emulator.ts';
import { buildFunctionImage, removeImage, requireDockerAndBase } from '../test/support/docker.ts';
import { fixture } from '../test/support/function-process.ts';
import { behavioursZip, FAULTS, FULL_PLAN, runSoak, type Fault, type SoakPlan, type SoakReport } from '../test/emulator/soak-harness.ts';
import { machineFacts, num } from './support.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    invokes: { type: 'string' },
    'no-image': { type: 'boolean' },
    every: { type: 'string', multiple: true },
  },
});
const every = { ...FULL_PLAN.every };
for (const setting of values.every ?? []) {
  const [fault, rate] = setting.split('=');
  if (!FAULTS.includes(fault as Fault) || !/^\d+$/.test(rate ?? '')) {
    process.stderr.write(`soak: --every takes fault=N, a fault of ${FAULTS.join(', ')}; not ${setting}\n`);
    process.exit(2);
  }
  every[fault as Fault] = Number(rate);
}
const invokes = values.invokes === undefined ? FULL_PLAN.invokes : Number(values.invokes);
// A shorter soak takes its RSS baseline after a tenth of it.
const plan: SoakPlan = { ...FULL_PLAN, every, invokes, checkpoint: Math.min(FULL_PLAN.checkpoint, Math.max(1, Math.floor(invokes / 10))) };
const out = resolve(values.out ?? fileURLToPath(new URL('./results/soak.md', import.meta.url)));
const TIMEOUT_SECONDS = 1;
const MAX_ENVIRONMENTS = 4;

// As vitest's docker project sets them (vitest.config.ts), for the image build through testcontainers.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-soak-bench-'));
const image = `lambda-kit/soak-function:amd64-${randomUUID().slice(0, 8)}`;
let report: SoakReport;
try {
  const functions: FunctionDefinition[] = [
    { name: 'process', source: { command: [process.execPath, fixture('behaviours.ts')] } },
    { name: 'zip', source: { zip: await behavioursZip(dir) } },
  ];
  if (!values['no-image']) {
    await requireDockerAndBase('amd64');
    await buildFunctionImage(fixture('behaviours.ts'), 'amd64', image);
    functions.push({ name: 'image', source: { image, platform: 'linux/amd64' } });
  }
  process.stderr.write(`soak: ${num(plan.invokes)} invokes, ${plan.callers} callers, ${functions.map((fn) => fn.name).join(', ')}...\n`);
  report = await runSoak(
    plan,
    functions.map((definition) => ({ ...definition, timeoutSeconds: TIMEOUT_SECONDS, maxEnvironments: MAX_ENVIRONMENTS })),
  );
} finally {
  if (!values['no-image']) await removeImage(image);
  await rm(dir, { recursive: true, force: true });
}

const { cpu, cores } = machineFacts();
const mb = (value: number) => `${num(value, 1)} MB`;
const rates = FAULTS.map((fault) => `${fault} ${plan.every[fault] > 0 ? `1 in ${plan.every[fault]}` : 'none'}`).join(', ');
const markdown = [
  '# Emulator soak',
  `Node ${process.version} · ${cpu} · ${cores} cores · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · \`npm run soak\` (bench/soak.ts)`,
  `${num(plan.invokes)} invokes from ${plan.callers} concurrent callers over the Invoke API, in turn to ` +
    `${report.functions.map((fn) => `\`${fn.name}\``).join(', ')} (each runs test/fixtures/functions/behaviours.ts, ` +
    `timeout ${TIMEOUT_SECONDS} s, ${MAX_ENVIRONMENTS} environments at most). Faults at fixed rates: ${rates}. ` +
    'Mid-stream exits go through InvokeWithResponseStream, the rest through Invoke. RSS is the emulator process’s ' +
    `(the soak runs it in-process) after a full GC, after the first ${num(plan.checkpoint)} answers and at the end.`,
  '| | figure |',
  '|---|---:|',
  `| invokes | ${num(plan.invokes)} |`,
  `| answers | ${num(report.answers)} |`,
  ...(['echo', ...FAULTS] as const).map(
    (kind) =>
      `| ${kind === 'echo' ? 'echo (no fault)' : kind}: sent / answered as it must be | ${num(report.byKind[kind].sent)} / ${num(report.byKind[kind].right)} |`,
  ),
  `| mid-stream exits whose caller got the partial chunk | ${num(report.partialChunks)} |`,
  ...report.functions.map(
    (fn) =>
      `| \`${fn.name}\`: invokes / cold starts / environments at the end | ${num(fn.invokes)} / ${num(fn.coldStarts)} / ${fn.environmentsAtEnd} |`,
  ),
  `| RSS after ${num(plan.checkpoint)} answers | ${mb(report.rss.checkpointMb)} |`,
  `| RSS at the end | ${mb(report.rss.endMb)} |`,
  `| RSS end / after ${num(plan.checkpoint)} (limit ${(1 + plan.maxRssGrowth).toFixed(2)}) | ${report.rss.ratio.toFixed(3)} |`,
  `| file descriptors before / after | ${report.fds.before} / ${report.fds.after} |`,
  `| child processes before / after | ${report.children.before} / ${report.children.after} |`,
  `| emulator temp dirs during / after | ${report.tmpDirs.during} / ${report.tmpDirs.after} |`,
  `| duration | ${num(report.durationMs / 1000, 1)} s |`,
  `RSS every ${num(plan.checkpoint)} answers (MB): ${report.rss.samples.map((sample) => num(sample.mb, 1)).join(', ')}; ` +
    `of it, the JS heap in use: ${report.rss.samples.map((sample) => num(sample.heapMb, 1)).join(', ')}.`,
  report.problems.length === 0
    ? 'Problems: none.'
    : `Problems:\n\n${report.problems.map((problem) => `- ${problem.replaceAll('\n', ' ')}`).join('\n')}`,
].join('\n\n');
// The table's rows belong together: no blank lines between them.
const text = `${markdown.replace(/\|\n\n\|/g, '|\n|')}\n`;
process.stdout.write(text);
await mkdir(dirname(out), { recursive: true });
await writeFile(out, text);
process.stderr.write(`soak: wrote ${out}\n`);
if (report.problems.length > 0) process.exitCode = 1;
