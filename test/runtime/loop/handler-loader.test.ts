import { describe, expect, it } from 'vitest';
import { parseHandlerName } from '../../../runtime/loop/handler-loader.ts';

describe('parseHandlerName', () => {
  it.each([
    ['index.handler', { modulePath: 'index', exportPath: 'handler' }],
    ['src/app.main', { modulePath: 'src/app', exportPath: 'main' }],
    ['lib/v1.2/app.handler', { modulePath: 'lib/v1.2/app', exportPath: 'handler' }],
    ['app.nested.fn', { modulePath: 'app', exportPath: 'nested.fn' }],
  ])('splits %s', (name, expected) => {
    expect(parseHandlerName(name)).toEqual(expected);
  });

  it.each(['index', '.handler', 'index.', '../up.handler'])('rejects %s as malformed', (name) => {
    expect(() => parseHandlerName(name)).toThrow(expect.objectContaining({ errorType: 'Runtime.MalformedHandlerName' }));
  });
});
