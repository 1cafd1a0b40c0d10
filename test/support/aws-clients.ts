import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * What the compatibility tests need to run AWS's own clients against the
 * emulator: the Node runtime interface client (aws-lambda-ric, whose native
 * addon scripts/setup.sh builds) and Debian's awscli.
 */

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The entry of aws-lambda-ric (its package.json "bin"), run unchanged. */
export const ricEntry = `${root}node_modules/aws-lambda-ric/index.mjs`;
const ricAddon = `${root}node_modules/aws-lambda-ric/rapid-client.node`;

/** Task root of the plain JavaScript handler module the RIC loads (_HANDLER=index.<export>). */
export const plainJsTaskRoot = fileURLToPath(new URL('../fixtures/functions/plain-js', import.meta.url));

/** Throws, saying what to run, when the RIC's native addon was not built. */
export function requireRic(): void {
  if (!existsSync(ricAddon)) {
    throw new Error(
      `aws-lambda-ric's native addon is missing (${ricAddon}): run \`bash scripts/setup.sh\`, ` +
        'which builds it against the headers of the Node that runs the tests',
    );
  }
}

/** Debian's awscli, by full path: another `aws` (pyenv, pip) may come first on PATH. */
export const AWS_CLI = '/usr/bin/aws';

export function requireAwsCli(): void {
  if (!existsSync(AWS_CLI)) {
    throw new Error(`${AWS_CLI} is missing: run \`bash scripts/setup.sh\` (it installs Debian's awscli), or apt-get install -y awscli`);
  }
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: () => any;
  /** X-Amz-Log-Result, decoded. */
  log: () => string;
}

/** A raw Invoke API call, to check headers and bodies byte for byte. */
export async function invokeHttp(
  endpoint: string,
  name: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
    method: 'POST',
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
    headers,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: () => JSON.parse(text),
    log: () => Buffer.from(response.headers.get('x-amz-log-result') ?? '', 'base64').toString('utf8'),
  };
}
