import { describe, expect, it } from 'vitest';
import { MAX_ASYNC_PAYLOAD_BYTES, MAX_RESPONSE_BYTES, MAX_SYNC_PAYLOAD_BYTES } from '../../../runtime/protocol/index.ts';
import { MAX_RESPONSE_BYTES as RUNTIME_MAX_RESPONSE_BYTES } from '../../../runtime/index.ts';

// Lambda's payload limits, in bytes: 6 MB (6,291,456) of payload, plus the 100 bytes of framing a buffered answer may have.
describe('the protocol limits', () => {
  it('takes a buffered answer of up to 6,291,556 bytes', () => {
    expect(MAX_RESPONSE_BYTES).toBe(6_291_556);
    // lambda-kit/runtime exports the protocol's own.
    expect(RUNTIME_MAX_RESPONSE_BYTES).toBe(MAX_RESPONSE_BYTES);
  });

  it('takes a synchronous request of up to 6,291,456 bytes and an asynchronous one of up to 1,048,576', () => {
    expect(MAX_SYNC_PAYLOAD_BYTES).toBe(6_291_456);
    expect(MAX_ASYNC_PAYLOAD_BYTES).toBe(1_048_576);
  });
});
