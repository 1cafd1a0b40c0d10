import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_AREAS, renderErrorDocs, rowsOf } from '../../scripts/error-docs.ts';

describe('docs/errors.md', () => {
  it('is what the error tables say (run `npm run docs:errors` after changing a table)', () => {
    const committed = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderErrorDocs());
  });

  it('has a meaning, one sentence or more, for every code of every table', () => {
    for (const area of ERROR_AREAS) {
      for (const row of rowsOf(area)) expect(row.meaning, `${area.file}: ${row.code}`).toMatch(/\S.*\.$/);
    }
  });

  it('lists each code once, across all areas', () => {
    const codes = ERROR_AREAS.flatMap((area) => Object.keys(area.table));
    expect(codes.filter((code, i) => codes.indexOf(code) !== i)).toEqual([]);
  });
});

describe('error codes in the source', () => {
  it('are all in a table: no throw site spells a code of its own', () => {
    const known = new Set(ERROR_AREAS.flatMap((area) => Object.keys(area.table)));
    const spelled = new Map<string, string>();
    const root = new URL('../../', import.meta.url);
    for (const dir of ['runtime', 'src']) {
      for (const file of readdirSync(new URL(dir, root), { recursive: true, encoding: 'utf8' })) {
        if (!/\.(ts|cjs)$/.test(file)) continue;
        const source = readFileSync(new URL(`${dir}/${file}`, root), 'utf8');
        for (const match of source.matchAll(/['"`](LK_[A-Z0-9_]+)['"`]/g)) spelled.set(match[1]!, `${dir}/${file}`);
      }
    }
    expect(spelled.size).toBeGreaterThan(20);
    const unknown = [...spelled].filter(([code]) => !known.has(code)).map(([code, file]) => `${code} (${file})`);
    expect(unknown).toEqual([]);
  });
});
