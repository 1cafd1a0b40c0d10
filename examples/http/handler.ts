// A hono app behind API Gateway, ALB or a Function URL: one handler for every HTTP source.
import { Hono } from 'hono';
import { handle, type HttpContext } from 'lambda-kit/http';

const app = new Hono<{ Bindings: HttpContext }>();

app.get('/hello/:name', (c) =>
  c.json({
    message: `Hello, ${c.req.param('name')}!`,
    source: c.env.source,
    sourceIp: c.env.sourceIp,
  }),
);

app.post('/echo', async (c) =>
  c.body(await c.req.arrayBuffer(), 200, { 'content-type': c.req.header('content-type') ?? 'application/octet-stream' }),
);

export const handler = handle(app);
