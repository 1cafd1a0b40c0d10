import { randomBytes } from 'node:crypto';

/**
 * A new X-Ray trace header as Lambda passes it to a function when the caller
 * sent none: `Root=1-<8 hex seconds>-<24 hex random>;Sampled=0`.
 *
 * @see https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader
 */
export function newTraceId(now = Date.now()): string {
  return `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')};Sampled=0`;
}
