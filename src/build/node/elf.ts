/**
 * Work on ELF files with the host's binutils and patchelf: stripping Node for
 * its arch, reading the libraries a file needs, and setting its interpreter
 * and DT_RPATH. Tools missing are installed with apt-get when running as root.
 */
import type { Arch } from '../../platform/arch.ts';
import { baseName, requireTool, tool } from './tools.ts';

/** A strip that knows the arch's ELF files (binutils' own, or LLVM's for any arch), and the Debian package of the first. */
const STRIP: Record<Arch, { tools: string[]; aptPackage: string }> = {
  x86_64: { tools: ['x86_64-linux-gnu-strip', 'llvm-strip'], aptPackage: 'binutils-x86-64-linux-gnu' },
  arm64: { tools: ['aarch64-linux-gnu-strip', 'llvm-strip'], aptPackage: 'binutils-aarch64-linux-gnu' },
};

export async function patchelf(file: string, interpreter: string, rpath: string): Promise<void> {
  const path = await requireTool(['patchelf'], 'patchelf');
  // DT_RPATH (--force-rpath), not DT_RUNPATH: RPATH is searched before LD_LIBRARY_PATH.
  await tool(path, ['--set-interpreter', interpreter, '--force-rpath', '--set-rpath', rpath, file], {
    code: 'LK_KIT_TOOL_MISSING',
    what: `patchelf on ${file}`,
  });
}

export async function patchelfVersion(): Promise<string> {
  const { stdout } = await tool(await requireTool(['patchelf'], 'patchelf'), ['--version'], {
    code: 'LK_KIT_TOOL_MISSING',
    what: 'patchelf --version',
  });
  return stdout.trim();
}

/** The NEEDED entries of an ELF file. */
export async function needed(file: string): Promise<string[]> {
  const { stdout } = await tool(await requireTool(['patchelf'], 'patchelf'), ['--print-needed', file], {
    code: 'LK_KIT_TOOL_MISSING',
    what: `patchelf --print-needed ${file}`,
  });
  return stdout.split('\n').filter(Boolean);
}

const stripTools = new Map<Arch, Promise<{ path: string; version: string }>>();
/** A strip for the arch: <triple>-strip from binutils (installed with apt-get when missing and root), or llvm-strip. */
export function stripTool(arch: Arch): Promise<{ path: string; version: string }> {
  let found = stripTools.get(arch);
  if (!found) {
    const { tools: names, aptPackage } = STRIP[arch];
    found = (async () => {
      const path = await requireTool(names, aptPackage);
      const { stdout } = await tool(path, ['--version'], { code: 'LK_KIT_TOOL_MISSING', what: `${path} --version` });
      return {
        path,
        version: `${baseName(path)}: ${stdout
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
          .slice(0, 2)
          .join(', ')}`,
      };
    })();
    found.catch(() => stripTools.delete(arch));
    stripTools.set(arch, found);
  }
  return found;
}

/** Strips every symbol from `file` with the arch's strip. */
export async function stripAll(arch: Arch, file: string): Promise<void> {
  const strip = await stripTool(arch);
  await tool(strip.path, ['--strip-all', file], { code: 'LK_KIT_TOOL_MISSING', what: `${strip.path} ${file}` });
}
