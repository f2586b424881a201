// A bound on what a JSON text may expand to, checked on the text before JSON.parse builds it. A parsed value costs
// tens of bytes of heap however short its text (`{}` is two characters and a whole object), so a body within the byte
// limit can still parse into hundreds of MiB, and a deeply nested one can overflow the stack of whatever walks it
// later. One pass over the characters: nesting depth and the number of values, outside strings. Pure.

export interface JsonShapeLimits {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Most values (objects, arrays and scalars, counting each array element and object member once). */
  maxValues: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

/** Why `text` is beyond the limits, or undefined. Malformed JSON is left to JSON.parse to report. */
export function jsonShapeProblem(text: string, limits: JsonShapeLimits): string | undefined {
  let depth = 0;
  // One value at the top; each comma outside a string separates one more.
  let values = 1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limits.maxDepth) return `the JSON nests deeper than ${limits.maxDepth} levels`;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
    else if (c === COMMA && ++values > limits.maxValues) return `the JSON holds more than ${limits.maxValues} values`;
  }
  return undefined;
}
