import type Docker from 'dockerode';
import { KitError } from '../errors.ts';

/**
 * The Docker engine a build talks to: the one given, or the local one
 * (dockerode loaded only when a build needs Docker). Fails at once, with
 * `needs` saying what wanted it and `otherwise` what to do instead, when no
 * engine answers.
 */
export async function dockerEngine(given: Docker | undefined, needs: string, otherwise: string): Promise<Docker> {
  const docker = given ?? new (await import('dockerode')).default();
  try {
    await docker.ping();
  } catch (error) {
    throw new KitError('LK_KIT_NO_DOCKER', `${needs} needs a Docker engine, and none answers (${(error as Error).message}): ${otherwise}`, {
      cause: error,
    });
  }
  return docker;
}
