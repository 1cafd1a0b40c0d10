/**
 * The floors of ARCHITECTURE.md as rules. `npm run check:deps` (part of
 * `npm test`) fails on any import that breaks one.
 */
const RUNTIME_LIBRARIES = '^runtime/(http|extension|events)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No module may reach itself through its imports.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'protocol-imports-nothing',
      severity: 'error',
      comment: 'runtime/protocol is the wire contract: it imports nothing but its own files.',
      from: { path: '^runtime/protocol/' },
      to: { pathNot: '^runtime/protocol/' },
    },
    {
      name: 'runtime-ships-alone',
      severity: 'error',
      comment: 'runtime/ ships inside every function: it imports only node:* and runtime/ (lambda-kit/events also zod, its schema language).',
      from: { path: '^runtime/' },
      to: { pathNot: ['^runtime/', '^node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'zod-only-for-events',
      severity: 'error',
      comment: 'Of runtime/, only lambda-kit/events may import zod: the runtime core, http and extension stay dependency-free.',
      from: { path: '^runtime/', pathNot: '^runtime/events/' },
      to: { path: '^node_modules/' },
    },
    {
      name: 'runtime-core-below-libraries',
      severity: 'error',
      comment: 'The runtime core (client, loop, errors, index) never imports the http, extension or events libraries.',
      from: { path: '^runtime/', pathNot: RUNTIME_LIBRARIES },
      to: { path: RUNTIME_LIBRARIES },
    },
    {
      name: 'runtime-libraries-apart',
      severity: 'error',
      comment: 'runtime/http, runtime/extension and runtime/events never import each other.',
      from: { path: '^runtime/(http|extension|events)/' },
      to: { path: RUNTIME_LIBRARIES, pathNot: '^runtime/$1/' },
    },
    {
      name: 'host-side-reaches-runtime-only-through-protocol',
      severity: 'error',
      comment: 'The platform, the emulator and the testing module speak to runtimes over the wire: of runtime/ they import only runtime/protocol.',
      from: { path: '^src/(platform|emulator|testing)/' },
      to: { path: '^runtime/', pathNot: '^runtime/protocol/' },
    },
    {
      name: 'platform-is-a-floor',
      severity: 'error',
      comment: 'src/platform holds facts about Lambda: it imports only node:*, runtime/protocol and itself.',
      from: { path: '^src/platform/' },
      to: { path: '^src/', pathNot: '^src/platform/' },
    },
    {
      name: 'emulator-stands-alone',
      severity: 'error',
      comment: 'The emulator never imports the build, the testing module or the CLI.',
      from: { path: '^src/emulator/' },
      to: { path: '^src/(build|testing|cli)/' },
    },
    {
      name: 'build-bundles-the-emulator-never-imports-it',
      severity: 'error',
      comment: 'The build reaches the emulator only by bundling its in-image entry (a file path), never by import.',
      from: { path: '^src/build/' },
      to: { path: '^src/(emulator|testing|cli)/' },
    },
    {
      name: 'testing-below-cli',
      severity: 'error',
      comment: 'lambda-kit/testing never imports the build or the CLI.',
      from: { path: '^src/testing/' },
      to: { path: '^src/(build|cli)/' },
    },
    {
      name: 'nothing-imports-the-cli',
      severity: 'error',
      comment: 'Only bin/ and the CLI itself import src/cli.',
      from: { path: '^(runtime|src)/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'commands-apart',
      severity: 'error',
      comment: 'No CLI command imports another: what two commands share lives beside them in src/cli/.',
      from: { path: '^src/cli/commands/([^/]+)\\.ts$' },
      to: { path: '^src/cli/commands/', pathNot: '^src/cli/commands/$1\\.ts$' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (but bin/\'s import of the compiled CLI, which exists once the package is built).',
      from: {},
      to: { couldNotResolve: true, pathNot: '^\\.\\./dist/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['lambda-kit-source', 'import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
