import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { peakTreeMemory } from '../../../src/emulator/launchers/process-launcher.ts';
import { waitFor } from '../../support/wait.ts';

describe('peakTreeMemory', () => {
  let root: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    if (root?.pid) process.kill(-root.pid, 'SIGKILL');
  });

  it("counts a grandchild's peak memory in its root's tree, and nothing from outside the tree", async () => {
    // sh (the root) starts node (its child), which starts another node (the grandchild) holding 96 MiB.
    const grandchild = `const b = Buffer.alloc(96 * 1024 * 1024, 1); console.log('ready'); setTimeout(() => b, 60000)`;
    const child = `const c = require('node:child_process').spawn(process.execPath, ['-e', ${JSON.stringify(grandchild)}], { stdio: 'inherit' }); setTimeout(() => c, 60000)`;
    root = spawn('sh', ['-c', `"${process.execPath}" -e "$CHILD"; sleep 60`], {
      detached: true,
      env: { ...process.env, CHILD: child },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    root.stdout!.on('data', (data: Buffer) => (output += data.toString()));
    await waitFor(
      () => output,
      (text) => text.includes('ready'),
      20_000,
    );
    const tree = await peakTreeMemory(root.pid!);
    expect(tree).toBeGreaterThan(96 * 1024 * 1024);
    // This test's own process (far from 96 MiB bigger) is outside the tree: a lone process counts only itself.
    const alone = spawn('sleep', ['60']);
    try {
      expect(await peakTreeMemory(alone.pid!)).toBeLessThan(32 * 1024 * 1024);
    } finally {
      alone.kill('SIGKILL');
    }
  });
});
