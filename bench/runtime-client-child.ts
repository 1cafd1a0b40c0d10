// One runtime-like process: polls /next and posts /response `count` times with the client named in argv.
// Each client is loaded lazily so that its own module loading is part of the cold start being measured.
const [clientName, countText, authority] = process.argv.slice(2) as [string, string, string];
const count = Number(countText);
const [host, portText] = authority.split(':') as [string, string];
const port = Number(portText);
const base = `http://${authority}/2018-06-01/runtime/invocation`;

interface Client {
  next(): Promise<string>;
  respond(id: string, body: string): Promise<void>;
}

async function load(name: string): Promise<Client> {
  switch (name) {
    case 'lambda-kit (node:net)': {
      const { RuntimeApiClient } = await import('../runtime/client/runtime-api-client.ts');
      const client = new RuntimeApiClient(authority);
      return {
        next: async () => (await client.nextInvocation()).requestId,
        respond: (id, body) => client.postResponse({ requestId: id } as never, body),
      };
    }
    case 'node:http': {
      const http = await import('node:http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const call = (method: string, path: string, body?: string) =>
        new Promise<{ id: string }>((resolve, reject) => {
          const request = http.request({ host, port, method, path, agent }, (response) => {
            response.resume();
            response.on('end', () => resolve({ id: String(response.headers['lambda-runtime-aws-request-id']) }));
          });
          request.on('error', reject);
          request.end(body);
        });
      return {
        next: async () => (await call('GET', '/2018-06-01/runtime/invocation/next')).id,
        respond: async (id, body) => void (await call('POST', `/2018-06-01/runtime/invocation/${id}/response`, body)),
      };
    }
    case 'fetch (undici in node core)':
      return {
        next: async () => {
          const response = await fetch(`${base}/next`);
          await response.arrayBuffer();
          return response.headers.get('lambda-runtime-aws-request-id')!;
        },
        respond: async (id, body) => void (await (await fetch(`${base}/${id}/response`, { method: 'POST', body })).arrayBuffer()),
      };
    case 'undici (npm) Client': {
      const { Client } = await import('undici');
      const client = new Client(`http://${authority}`, { pipelining: 0 });
      return {
        next: async () => {
          const response = await client.request({ method: 'GET', path: '/2018-06-01/runtime/invocation/next' });
          await response.body.arrayBuffer();
          return String(response.headers['lambda-runtime-aws-request-id']);
        },
        respond: async (id, body) => {
          const response = await client.request({ method: 'POST', path: `/2018-06-01/runtime/invocation/${id}/response`, body });
          await response.body.arrayBuffer();
        },
      };
    }
    default:
      throw new Error(`unknown client ${name}`);
  }
}

const client = await load(clientName);
// The first invoke is the cold one; the loop after it is what warm figures measure.
await client.respond(await client.next(), '{"message":"Hello, world!"}');
const before = process.cpuUsage();
const started = performance.now();
for (let i = 1; i < count; i++) {
  const id = await client.next();
  await client.respond(id, '{"message":"Hello, world!"}');
}
const cpu = process.cpuUsage(before);
process.stdout.write(JSON.stringify({ cpuMicros: cpu.user + cpu.system, loopMs: performance.now() - started }));
process.exit(0);
