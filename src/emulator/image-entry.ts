/**
 * Baked into function images (as .lambda-kit/local-emulator.mjs beside the
 * bootstrap): when the image is started with plain `docker run` and no
 * AWS_LAMBDA_RUNTIME_API, the bootstrap runs this instead of the function,
 * the way AWS base images fall back to the Runtime Interface Emulator.
 * The function then answers on the Invoke API, as with RIE:
 *   docker run -p 9000:8080 IMAGE
 *   curl -d '{}' http://localhost:9000/2015-03-31/functions/function/invocations
 */
import { invokePath } from '../../runtime/protocol/index.ts';
import { Emulator } from './emulator.ts';

const env = process.env;
// Inside a container 0.0.0.0 is what makes `-p 9000:8080` work; both can be changed.
const host = env.LAMBDA_KIT_EMULATOR_HOST ?? '0.0.0.0';
const port = Number(env.LAMBDA_KIT_EMULATOR_PORT ?? 8080);
const taskRoot = env.LAMBDA_TASK_ROOT ?? '/var/task';

const emulator = await Emulator.start({
  functions: [
    {
      name: 'function',
      // The bootstrap itself, started again with AWS_LAMBDA_RUNTIME_API set, runs the function.
      source: { command: [process.execPath], taskRoot },
      timeoutSeconds: Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? 300),
      memoryMb: Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? 3008),
      maxEnvironments: 1,
      ...(env._HANDLER !== undefined && { handler: env._HANDLER }),
    },
  ],
  host,
  port,
  log: (_name, line) => process.stdout.write(`${line}\n`),
});
process.stderr.write(
  `lambda-kit: AWS_LAMBDA_RUNTIME_API is not set, so this image serves itself locally: ` +
    `POST ${emulator.endpoint}${invokePath('function')}\n`,
);
const stop = () => void emulator.close().then(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
