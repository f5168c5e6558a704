// Where each item of a LIST response starts and ends in the bytes the server sent, so that an
// object can be stored exactly as served instead of re-serialised: faster, and byte for byte.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const ITEMS_KEY = Buffer.from('"items"');

/** The index just past the string that starts at `i` (a quote). */
function skipString(b: Buffer, i: number): number {
  for (i++; i < b.length; i++) {
    const c = b[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return -1;
}

/** The index just past the object or array that starts at `i`. */
function skipValue(b: Buffer, i: number): number {
  let depth = 0;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) {
      i = skipString(b, i) - 1;
      if (i < 0) return -1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/**
 * [start, end) of each element of the top-level "items" array, or undefined when the body is
 * not shaped as expected (the caller then serialises the parsed items instead).
 */
export function itemRanges(b: Buffer): Array<[number, number]> | undefined {
  // Find "items" as a key of the top-level object: at depth 1, outside strings.
  let depth = 0;
  let i = 0;
  let itemsAt = -1;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) {
      if (
        depth === 1 &&
        i + ITEMS_KEY.length <= b.length &&
        b.compare(ITEMS_KEY, 0, ITEMS_KEY.length, i, i + ITEMS_KEY.length) === 0
      ) {
        itemsAt = i + ITEMS_KEY.length;
        break;
      }
      i = skipString(b, i) - 1;
      if (i < 0) return undefined;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--;
  }
  if (itemsAt < 0) return undefined;
  i = b.indexOf(OPEN_ARRAY, itemsAt);
  if (i < 0) return undefined;
  const ranges: Array<[number, number]> = [];
  for (i++; i < b.length; i++) {
    const c = b[i];
    if (c === OPEN_OBJECT) {
      const end = skipValue(b, i);
      if (end < 0) return undefined;
      ranges.push([i, end]);
      i = end - 1;
    } else if (c === CLOSE_ARRAY) return ranges;
  }
  return undefined;
}
