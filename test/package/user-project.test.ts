// lambda-kit as a user gets it: `npm pack`, installed from the tarball into a fresh TypeScript
// project in a temp dir, used from there with an empty cache, and (when the tests run as root)
// as an unprivileged user. Defects of packaging (a file left out of "files", a path that only
// exists in a checkout) show here and nowhere else.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
// A user's project: package.json, tsconfig.json, a handler and a vitest test (handler.spec.ts, which this repository's own vitest does not collect).
const PROJECT = fileURLToPath(new URL('../fixtures/user-project/', import.meta.url));
const nodeBin = dirname(process.execPath);
// nobody, when root: what a user without privileges can do is what the package must do.
const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

let work: string;
let app: string;

function user(command: string, args: string[], timeout = 120_000) {
  const result = spawnSync(command, args, {
    cwd: app,
    encoding: 'utf8',
    timeout,
    ...asUser,
    env: {
      HOME: join(work, 'home'),
      PATH: `${nodeBin}:/usr/bin:/bin`,
      LAMBDA_KIT_CACHE_DIR: join(work, 'cache'),
      npm_config_cache: join(work, 'home', '.npm'),
      ...(process.env.NODE_EXTRA_CA_CERTS && { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }),
    },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'lambda-kit-user-'));
  chmodSync(work, 0o755);
  app = join(work, 'app');
  mkdirSync(app);
  mkdirSync(join(work, 'home'));
  execFileSync('npm', ['pack', '--pack-destination', app, '--silent'], {
    cwd: repo,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${nodeBin}:${process.env.PATH}` },
  });
  const tarball = readdirSync(app).find((name) => name.endsWith('.tgz'))!;
  cpSync(PROJECT, app, { recursive: true });
  if ('uid' in asUser) {
    for (const dir of [work, app, join(work, 'home')]) chownSync(dir, 65534, 65534);
    for (const entry of readdirSync(app, { recursive: true, encoding: 'utf8' })) chownSync(join(app, entry), 65534, 65534);
  }
  const install = user(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', `./${tarball}`, 'typescript', 'vitest', '@types/node'],
    240_000,
  );
  expect(install.code, install.stderr).toBe(0);
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('lambda-kit installed from its tarball into a fresh project', () => {
  it("typechecks a handler against lambda-kit/runtime's types", () => {
    const result = user(join(app, 'node_modules/.bin/tsc'), ['-p', '.']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('runs the handler with `lambda-kit run`', () => {
    const result = user(join(app, 'node_modules/.bin/lambda-kit'), ['run', 'src/handler.ts', '--payload', '{"firstName":"Ada"}']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ message: 'Hello, Ada!' });
    expect(result.stderr).toMatch(/INFO\tgreeting Ada \(\d+ ms left\)/);
  });

  it('refuses bad input with exit 2 and a one-line message', () => {
    const result = user(join(app, 'node_modules/.bin/lambda-kit'), ['run', 'src/handler.ts', '--payload', '{bad']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^lambda-kit: the payload is not JSON/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("runs the user's vitest test against lambda-kit/emulator", () => {
    const result = user(join(app, 'node_modules/.bin/vitest'), ['run']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/1 passed/);
  });
});
