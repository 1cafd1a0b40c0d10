// resolveNodeVersion against a stand-in npm on PATH: the registry's listing is
// kept for NODE_VERSIONS_TTL_MS, per package (arch).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_VERSIONS_TTL_MS, resolveNodeVersion } from '../../../src/build/node/version.ts';

describe('resolveNodeVersion', () => {
  /** An `npm` first on PATH that counts its calls and lists these versions. */
  async function fakeNpm(versions: string[]): Promise<{ dir: string; calls: () => Promise<number>; restore: () => void }> {
    const dir = await mkdtemp(join(tmpdir(), 'lambda-kit-fake-npm-'));
    const count = join(dir, 'calls');
    await writeFile(join(dir, 'npm'), `#!/bin/sh\necho x >> '${count}'\necho '${JSON.stringify(versions)}'\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${dir}:${path}`;
    return {
      dir,
      calls: async () => (await readFile(count, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
      restore: () => {
        process.env.PATH = path;
      },
    };
  }

  it('asks the registry once within NODE_VERSIONS_TTL_MS, again after it or for a major the listing lacks', async () => {
    const npm = await fakeNpm(['22.9.0', '24.1.0', '24.10.0', '24.2.0']);
    try {
      const cacheDir = join(npm.dir, 'cache');
      let now = 1_000_000;
      const clock = () => now;
      expect(await resolveNodeVersion('x86_64', 24, cacheDir, undefined, clock)).toBe('24.10.0');
      now += NODE_VERSIONS_TTL_MS - 1;
      expect(await resolveNodeVersion('x86_64', 24, cacheDir, undefined, clock)).toBe('24.10.0');
      expect(await resolveNodeVersion('x86_64', 22, cacheDir, undefined, clock)).toBe('22.9.0');
      expect(await npm.calls()).toBe(1);
      now += 1;
      expect(await resolveNodeVersion('x86_64', 24, cacheDir, undefined, clock)).toBe('24.10.0');
      expect(await npm.calls()).toBe(2);
      // Another package (arch), another listing.
      await resolveNodeVersion('arm64', 24, cacheDir, undefined, clock);
      expect(await npm.calls()).toBe(3);
      await expect(resolveNodeVersion('x86_64', 26 as 24, cacheDir, undefined, clock)).rejects.toMatchObject({
        code: 'LK_KIT_NODE_UNAVAILABLE',
      });
      expect(await npm.calls()).toBe(4);
    } finally {
      npm.restore();
      await rm(npm.dir, { recursive: true, force: true });
    }
  });
});
