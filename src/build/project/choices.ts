/**
 * The choices a build offers, as the config and the command line spell them,
 * and their parsers: an unknown value is refused, naming where it came from
 * and what would do.
 */
import { ARCHES, archFromAlias, HOST_ARCH, type Arch } from '../../platform/arch.ts';
import { KitError } from '../errors.ts';

export const TARGETS = ['al2023', 'al2', 'al1'] as const;
export const LAYOUTS = ['self-contained', 'thin'] as const;
export const NODE_MAJORS = [24, 22] as const;

export type Target = (typeof TARGETS)[number];
export type Layout = (typeof LAYOUTS)[number];
export type NodeMajor = (typeof NODE_MAJORS)[number];

/** The host's architecture, as Lambda names it: the default arch. */
export function hostArch(): Arch {
  if (HOST_ARCH) return HOST_ARCH;
  throw new KitError(
    'LK_KIT_BAD_OPTION',
    `this machine's architecture (${process.arch}) is not one Lambda runs: give --arch x86_64 or --arch arm64`,
  );
}

function choice<T extends string | number>(value: string | number, allowed: readonly T[], what: string, where: string): T {
  const match = allowed.find((candidate) => String(candidate) === String(value));
  if (match !== undefined) return match;
  const meant = what === 'arch' ? archFromAlias(String(value)) : undefined;
  const hint = meant ? ` (did you mean ${meant}?)` : '';
  throw new KitError('LK_KIT_BAD_OPTION', `unknown ${what} "${value}" (${where})${hint}: use ${allowed.join(' or ')}`);
}

export function parseArch(value: string, where = '--arch'): Arch {
  return choice(value, ARCHES, 'arch', where);
}

export function parseTarget(value: string, where = '--target'): Target {
  return choice(value, TARGETS, 'target', where);
}

export function parseLayout(value: string, where = '--layout'): Layout {
  return choice(value, LAYOUTS, 'layout', where);
}

export function parseNodeMajor(value: string | number, where = '--node'): NodeMajor {
  return choice(value, NODE_MAJORS, 'Node major version', where);
}
