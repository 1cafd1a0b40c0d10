/**
 * Lambda's two architectures, and every other name the tools around it use
 * for them (Node's process.arch, Docker platforms, Debian, npm packages,
 * qemu). The one place the kit, the emulator and the CLI map between them.
 */

/** The architectures as Lambda names them (CreateFunction's Architectures). */
export const ARCHES = ['x86_64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];

/** Each architecture as the tools around Lambda name it; `loader` is glibc's dynamic loader (ELF interpreter) for it. */
export const ARCH_NAMES: Record<Arch, { docker: string; nodeCpu: string; debian: string; triple: string; qemu: string; loader: string }> = {
  x86_64: {
    docker: 'linux/amd64',
    nodeCpu: 'x64',
    debian: 'amd64',
    triple: 'x86_64-linux-gnu',
    qemu: 'qemu-x86_64',
    loader: 'ld-linux-x86-64.so.2',
  },
  arm64: {
    docker: 'linux/arm64',
    nodeCpu: 'arm64',
    debian: 'arm64',
    triple: 'aarch64-linux-gnu',
    qemu: 'qemu-aarch64',
    loader: 'ld-linux-aarch64.so.1',
  },
};

/** Other spellings a user may type, mapped to Lambda's name. */
const ALIASES: Record<string, Arch> = {
  x86_64: 'x86_64',
  x64: 'x86_64',
  amd64: 'x86_64',
  'x86-64': 'x86_64',
  arm64: 'arm64',
  aarch64: 'arm64',
};

/** Lambda's name for an architecture spelled any of the usual ways, or undefined. */
export function archFromAlias(name: string): Arch | undefined {
  return ALIASES[name.toLowerCase()];
}

/** The Lambda architecture of a Node `process.arch` value, or undefined when Lambda has none. */
export function archOfNodeCpu(cpu: string): Arch | undefined {
  return cpu === 'x64' ? 'x86_64' : cpu === 'arm64' ? 'arm64' : undefined;
}

/** This machine's architecture as Lambda names it, or undefined on one Lambda does not run. */
export const HOST_ARCH: Arch | undefined = archOfNodeCpu(process.arch);
