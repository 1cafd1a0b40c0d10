import { build, type Metafile } from 'esbuild';

/**
 * Bundles an entry (a file, or handler source given inline) as a function's
 * bundle would include it, and reports what got in. The package's own name
 * resolves to its sources through the lambda-kit-source condition, as the kit does.
 */
export async function bundleOf(entry: string | { contents: string }) {
  const result = await build({
    ...(typeof entry === 'string'
      ? { entryPoints: [entry] }
      : { stdin: { contents: entry.contents, resolveDir: process.cwd(), sourcefile: 'handler.ts', loader: 'ts' as const } }),
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // As the kit minifies a function's bundle (src/build/bundle/bundle.ts): whitespace and syntax, names kept.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    metafile: true,
    conditions: ['lambda-kit-source'],
    logLevel: 'silent',
  });
  const output: Metafile['outputs'][string] = Object.values(result.metafile.outputs)[0]!;
  const externals = output.imports.filter((imported) => imported.external).map((imported) => imported.path);
  const code = result.outputFiles[0]!.text;
  // Built-ins reached through process.getBuiltinModule (cheaper on cold start than imports) count as imports.
  const builtins = [...code.matchAll(/getBuiltinModule\("([^"]+)"\)/g)].map((match) => match[1]!);
  return { inputs: Object.keys(result.metafile.inputs), externals: [...externals, ...builtins], bytes: output.bytes };
}
