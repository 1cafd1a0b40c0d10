// The ceiling of a Node runtime process: GET /next, POST the fixed answer,
// on one kept-alive node:net socket, with no handler, context, logging or
// error handling. Whatever a real runtime does on top shows against this.
// Runs until killed; AWS_LAMBDA_RUNTIME_API says where the API is. Plain
// JavaScript: a .ts file would load Node's type stripper, which is no part of
// the ceiling (and would count in its memory).
//
// Bytes arrive through net's `onread` (one reused buffer, no Readable stream),
// the cheapest read path Node has and the one lambda-kit's runtime uses; run
// with the argument `data` it reads 'data' events instead, the idiomatic path.
import { connect } from 'node:net';

const viaDataEvents = process.argv[2] === 'data';
const authority = process.env.AWS_LAMBDA_RUNTIME_API;
const colon = authority.lastIndexOf(':');
const socket = connect({
  host: authority.slice(0, colon),
  port: Number(authority.slice(colon + 1)),
  noDelay: true,
  ...(!viaDataEvents && {
    onread: { buffer: Buffer.allocUnsafe(64 * 1024), callback: (length, buffer) => onData(buffer.subarray(0, length)) },
  }),
});
const NEXT = `GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;
const BODY = '{"message":"Hello, world!"}';
const ID_HEADER = 'lambda-runtime-aws-request-id: ';

let pending = '';
let waitingForNext = true;
function onData(data) {
  pending += data.toString('latin1');
  for (;;) {
    const headEnd = pending.indexOf('\r\n\r\n');
    if (headEnd === -1) return;
    const head = pending.slice(0, headEnd);
    const lower = head.toLowerCase();
    const lengthAt = lower.indexOf('content-length: ');
    const end = headEnd + 4 + (lengthAt === -1 ? 0 : Number.parseInt(lower.slice(lengthAt + 16), 10));
    if (pending.length < end) return;
    pending = pending.slice(end);
    if (waitingForNext) {
      const idAt = lower.indexOf(ID_HEADER) + ID_HEADER.length;
      const id = head.slice(idAt, head.indexOf('\r\n', idAt));
      socket.write(
        `POST /2018-06-01/runtime/invocation/${id}/response HTTP/1.1\r\nHost: ${authority}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${BODY.length}\r\n\r\n${BODY}`,
      );
    } else {
      socket.write(NEXT);
    }
    waitingForNext = !waitingForNext;
  }
}
if (viaDataEvents) socket.on('data', onData);
socket.write(NEXT);
