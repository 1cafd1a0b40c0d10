// A streaming function written for AWS: the `awslambda` global wraps the handler,
// and each write reaches the caller as it happens (invoke it with InvokeWithResponseStream).
import type {} from 'aws-lambda'; // types of the awslambda global (@types/aws-lambda)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const handler = awslambda.streamifyResponse(async (event: { count?: number }, responseStream) => {
  const http = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 200,
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  });
  const count = event.count ?? 3;
  for (let i = 1; i <= count; i++) {
    http.write(`chunk ${i} of ${count}\n`);
    await sleep(100);
  }
  http.end();
});
