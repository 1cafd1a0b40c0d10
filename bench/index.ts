/**
 * `npm run bench`: every benchmark section in one run on this machine, printed
 * as markdown and written to bench/results/latest.md.
 *
 *   node bench/index.ts [--smoke] [--out FILE] [--only SECTION]...
 *
 * --smoke (or BENCH_SMOKE=1): tiny counts and no Docker, to show the harness
 * works (the unit tests run it so). --out (or BENCH_OUT): where the markdown
 * goes; a smoke run writes nothing unless told where. --only (repeatable):
 * run these sections alone (by name, e.g. --only "cold start"); such a run
 * writes nothing unless told where either, as it is not the whole report.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from './sections/build.ts';
import { coldStart } from './sections/cold-start.ts';
import { emulator } from './sections/emulator.ts';
import { memory } from './sections/memory.ts';
import { sizes } from './sections/sizes.ts';
import { warmLoop } from './sections/warm-loop.ts';
import { machineFacts, type BenchSection, type BenchTarget, type Section } from './support.ts';

/** In the order of issue 7; each title is numbered by its place here. */
const SECTIONS: Array<{ name: string; run: Section }> = [
  { name: 'warm loop', run: warmLoop },
  { name: 'cold start', run: coldStart },
  { name: 'emulator', run: emulator },
  { name: 'build', run: build },
  { name: 'sizes', run: sizes },
  { name: 'memory', run: memory },
];

const { values } = parseArgs({
  options: { smoke: { type: 'boolean' }, out: { type: 'string' }, only: { type: 'string', multiple: true } },
});
const smoke = values.smoke ?? process.env.BENCH_SMOKE === '1';
const only = values.only ?? [];
const unknown = only.filter((name) => !SECTIONS.some((section) => section.name === name));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: no section ${unknown.map((name) => JSON.stringify(name)).join(', ')}; the sections: ${SECTIONS.map((section) => section.name).join(', ')}\n`,
  );
  process.exit(2);
}
const defaultOut = smoke || only.length > 0 ? undefined : fileURLToPath(new URL('./results/latest.md', import.meta.url));
const out = values.out ?? process.env.BENCH_OUT ?? defaultOut;

/** A markdown table; columns whose cells are all figures are right-aligned. */
function markdownTable(rows: string[][]): string {
  const [header, ...body] = rows as [string[], ...string[][]];
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  const figure = /^([<>]=? )?[\d.,]+ ?(x|%|s|ms|µs|B|KB|MB)?$|^n\/a$|^$/;
  const numeric = header.map((_, column) => body.length > 0 && body.every((row) => figure.test(row[column] ?? '')));
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${numeric.map((right) => (right ? '---:' : '---')).join('|')}|`,
    ...body.map((row) => `| ${header.map((_, column) => cell(row[column] ?? '')).join(' | ')} |`),
  ].join('\n');
}

function sectionMarkdown(number: number, section: BenchSection): string {
  const parts = [`## ${number}. ${section.title}`];
  if (section.intro) parts.push(section.intro);
  parts.push(markdownTable(section.table));
  if (section.notes?.length) parts.push(section.notes.map((note) => `- ${note}`).join('\n'));
  return parts.join('\n\n');
}

function targetsMarkdown(targets: BenchTarget[]): string {
  const rows = [['what', 'measured', 'target', 'measured / target', 'met']];
  for (const target of targets) {
    rows.push([
      target.what,
      target.measured,
      target.target,
      target.ratio === undefined ? '' : target.ratio.toFixed(2),
      target.met ? '✓' : '✗',
    ]);
  }
  return `## Targets\n\n${markdownTable(rows)}`;
}

const started = performance.now();
const { cpu, cores } = machineFacts();
const parts = [
  '# lambda-kit benchmarks',
  `Node ${process.version} · ${cpu} · ${cores} cores · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · ` +
    `${smoke ? 'smoke run (tiny counts, no Docker: not figures to quote)' : only.length > 0 ? `only ${only.join(', ')}` : 'full run'} · \`npm run bench\` (bench/index.ts)`,
];
const targets: BenchTarget[] = [];
const failed: string[] = [];
for (const [index, { name, run }] of SECTIONS.entries()) {
  if (only.length > 0 && !only.includes(name)) continue;
  const sectionStarted = performance.now();
  process.stderr.write(`bench: ${name}...\n`);
  try {
    const section = await run({ smoke });
    parts.push(sectionMarkdown(index + 1, section));
    targets.push(...section.targets);
  } catch (error) {
    failed.push(name);
    parts.push(`## ${index + 1}. ${name}\n\nFailed: ${(error as Error).stack ?? String(error)}`);
  }
  process.stderr.write(`bench: ${name} took ${((performance.now() - sectionStarted) / 1000).toFixed(1)} s\n`);
}
parts.push(targetsMarkdown(targets));
parts.push(`The run took ${((performance.now() - started) / 60_000).toFixed(1)} min.`);
const markdown = `${parts.join('\n\n')}\n`;
process.stdout.write(markdown);
if (out) {
  await mkdir(dirname(resolve(out)), { recursive: true });
  await writeFile(out, markdown);
  process.stderr.write(`bench: wrote ${out}\n`);
}
if (failed.length > 0) {
  process.stderr.write(`bench: failed: ${failed.join(', ')}\n`);
  process.exitCode = 1;
}
