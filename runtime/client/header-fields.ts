/**
 * Reading the field lines of a response head. Every response of the runtime
 * loop goes through here, so nothing is read that was not asked for: no
 * regex, split or Map, nothing lower-cased, no value cut out unasked.
 */

/**
 * The end of a line of an HTTP/1.1 head, and of a chunk's size and data, for every file of the client. Templates
 * spell it \r\n in their text: a constant from another file is not folded into a template, but written in it whole.
 */
export const CRLF = '\r\n';

/**
 * Reads the field lines of a head from `start` to its blank line, and puts
 * the value of each field named in `picks` (any letter case, trimmed,
 * repeated fields joined with ", " as RFC 9110 5.3 says) at its index in
 * `picked`. Returns where the blank line starts, or -1 while the head has
 * yet to arrive whole.
 */
export function pickFields(text: string, start: number, picks: readonly string[], picked: Array<string | undefined>): number {
  for (;;) {
    const stop = text.indexOf(CRLF, start);
    if (stop === -1 || stop === start) return stop;
    const colon = text.indexOf(':', start);
    if (colon > start && colon < stop) {
      // Names are compared by length first: one length is mostly one name.
      const nameLength = trimEnd(text, start, colon) - start;
      for (let i = 0; i < picks.length; i++) {
        const name = picks[i]!;
        if (name.length === nameLength && isNamed(text, start, name)) {
          const value = text.slice(trimStart(text, colon + 1, stop), trimEnd(text, colon + 1, stop));
          picked[i] = picked[i] === undefined ? value : `${picked[i]}, ${value}`;
          break;
        }
      }
    }
    start = stop + 2;
  }
}

const isBlank = (code: number) => code === 32 || code === 9;

/** The end of text[start, end) without trailing spaces and tabs. */
function trimEnd(text: string, start: number, end: number): number {
  while (end > start && isBlank(text.charCodeAt(end - 1))) end--;
  return end;
}

/** The start of text[start, end) without leading spaces and tabs. */
function trimStart(text: string, start: number, end: number): number {
  while (start < end && isBlank(text.charCodeAt(start))) start++;
  return start;
}

/**
 * Whether the field name at `start` of `text` is `name` in any letter case.
 * Letter by letter only when it is not spelled exactly so, and then from the
 * end: names of one length mostly share a prefix ("Lambda-Runtime-"), so a
 * different name shows in its last letters.
 */
function isNamed(text: string, start: number, name: string): boolean {
  // Spelled exactly so, indexOf finds it at `start` in one native compare; startsWith(name, start) and a slice
  // compared with === (a sliced string: V8's slow string equality) cost more in the warm loop (see bench/README.md).
  if (text.indexOf(name, start) === start) return true;
  for (let i = name.length - 1; i >= 0; i--) {
    const code = text.charCodeAt(start + i);
    const wanted = name.charCodeAt(i);
    if (code === wanted) continue;
    // | 32 lower-cases an ASCII letter; anything else must have been equal.
    const lower = code | 32;
    if (lower !== (wanted | 32) || lower < 97 || lower > 122) return false;
  }
  return true;
}
