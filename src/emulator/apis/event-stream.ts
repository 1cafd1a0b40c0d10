import { crc32 } from 'node:zlib';
import { EmulatorError } from '../errors.ts';

/**
 * AWS's event-stream framing (application/vnd.amazon.eventstream), as
 * InvokeWithResponseStream sends it: each message is
 * [total length][headers length][prelude CRC32][headers][payload][message CRC32],
 * big-endian, with string headers (:event-type, :content-type, :message-type).
 */

const STRING_HEADER = 7;

export function encodeEventMessage(headers: Record<string, string>, payload: Buffer): Buffer {
  const headerParts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    const part = Buffer.alloc(1 + nameBytes.length + 1 + 2 + valueBytes.length);
    let offset = part.writeUInt8(nameBytes.length, 0);
    offset += nameBytes.copy(part, offset);
    offset = part.writeUInt8(STRING_HEADER, offset);
    offset = part.writeUInt16BE(valueBytes.length, offset);
    valueBytes.copy(part, offset);
    headerParts.push(part);
  }
  const headerBytes = Buffer.concat(headerParts);
  const total = 12 + headerBytes.length + payload.length + 4;
  const message = Buffer.alloc(total);
  message.writeUInt32BE(total, 0);
  message.writeUInt32BE(headerBytes.length, 4);
  message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
  headerBytes.copy(message, 12);
  payload.copy(message, 12 + headerBytes.length);
  message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
  return message;
}

export interface DecodedEventMessage {
  headers: Record<string, string>;
  payload: Buffer;
}

/** Decodes whole messages from `data`; returns them and the bytes left over. Checks both CRCs. */
export function decodeEventMessages(data: Buffer): { messages: DecodedEventMessage[]; rest: Buffer } {
  const messages: DecodedEventMessage[] = [];
  let offset = 0;
  while (data.length - offset >= 16) {
    const total = data.readUInt32BE(offset);
    if (data.length - offset < total) break;
    const message = data.subarray(offset, offset + total);
    if (message.readUInt32BE(8) !== crc32(message.subarray(0, 8)))
      throw new EmulatorError('LK_EMULATOR_EVENT_STREAM', 'event stream: bad prelude CRC');
    if (message.readUInt32BE(total - 4) !== crc32(message.subarray(0, total - 4)))
      throw new EmulatorError('LK_EMULATOR_EVENT_STREAM', 'event stream: bad message CRC');
    const headersLength = message.readUInt32BE(4);
    const headers: Record<string, string> = {};
    let position = 12;
    while (position < 12 + headersLength) {
      const nameLength = message.readUInt8(position);
      const name = message.toString('utf8', position + 1, position + 1 + nameLength);
      position += 1 + nameLength;
      const type = message.readUInt8(position);
      if (type !== STRING_HEADER) throw new EmulatorError('LK_EMULATOR_EVENT_STREAM', `event stream: header type ${type} is not supported`);
      const valueLength = message.readUInt16BE(position + 1);
      headers[name] = message.toString('utf8', position + 3, position + 3 + valueLength);
      position += 3 + valueLength;
    }
    messages.push({ headers, payload: Buffer.from(message.subarray(12 + headersLength, total - 4)) });
    offset += total;
  }
  return { messages, rest: data.subarray(offset) };
}

export function payloadChunkEvent(chunk: Buffer): Buffer {
  return encodeEventMessage(
    { ':event-type': 'PayloadChunk', ':content-type': 'application/octet-stream', ':message-type': 'event' },
    chunk,
  );
}

export interface InvokeCompleteDetails {
  ErrorCode?: string;
  ErrorDetails?: string;
  LogResult?: string;
}

export function invokeCompleteEvent(details: InvokeCompleteDetails): Buffer {
  return encodeEventMessage(
    { ':event-type': 'InvokeComplete', ':content-type': 'application/json', ':message-type': 'event' },
    Buffer.from(JSON.stringify(details)),
  );
}
