import { describe, expect, it } from 'vitest';
import { isCodedError } from '../../src/platform/errors.ts';
import { BUILD_ERRORS, KitError } from '../../src/build/errors.ts';

describe('BUILD_ERRORS', () => {
  it('gives each code its kind: what the user gave is input, the work failing is a failure', () => {
    const input = Object.entries(BUILD_ERRORS)
      .filter(([, spec]) => spec.kind === 'input')
      .map(([code]) => code)
      .sort();
    expect(input).toEqual(
      [
        'LK_KIT_BAD_OPTION',
        'LK_KIT_CONFIG',
        'LK_KIT_ENTRY_NOT_FOUND',
        'LK_KIT_EXTERNAL_NOT_FOUND',
        'LK_KIT_INVALID_OPTIONS',
        'LK_KIT_NO_BUILDER',
        'LK_KIT_NO_FUNCTIONS',
        'LK_KIT_SNAPSHOT_OPTIONS',
        'LK_KIT_UNKNOWN_FORMAT',
      ].sort(),
    );
    for (const spec of Object.values(BUILD_ERRORS)) expect(spec.meaning).toMatch(/^\S.*\.$/);
  });

  it('a KitError carries its code and the kind the table gives it', () => {
    const error = new KitError('LK_KIT_SNAPSHOT_OPTIONS', 'no');
    expect(error).toMatchObject({ name: 'KitError', code: 'LK_KIT_SNAPSHOT_OPTIONS', kind: 'input', message: 'no' });
    expect(new KitError('LK_KIT_ZIP', 'no').kind).toBe('failure');
    expect(isCodedError(error)).toBe(true);
  });
});
