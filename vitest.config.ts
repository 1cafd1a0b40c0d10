import { defineConfig } from 'vitest/config';

// Two projects: fast unit tests (in-process, loopback only) and Docker tests
// (`*.docker.test.ts`, beside the other tests of their area), which build and
// run real containers and so get honest, longer timeouts.
export default defineConfig({
  test: {
    // In CI, a JSON report too: .ci/run prints the plain "N passed, N failed" line from it.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: { json: '.cache/vitest-results.json' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.docker.test.ts'],
          environment: 'node',
          testTimeout: 20_000,
          hookTimeout: 20_000,
          // Type-level tests (expectTypeOf in *.test-d.ts) fail the run by themselves, through tsc.
          typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        test: {
          name: 'docker',
          include: ['test/**/*.docker.test.ts'],
          environment: 'node',
          // Image builds and arm64 containers under qemu are slow on 2 cores.
          testTimeout: 300_000,
          hookTimeout: 600_000,
          fileParallelism: false,
          env: {
            TESTCONTAINERS_RYUK_DISABLED: 'true',
            TESTCONTAINERS_HOST_OVERRIDE: '127.0.0.1',
          },
        },
      },
    ],
  },
});
