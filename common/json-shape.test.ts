import { describe, expect, it } from 'vitest';
import { jsonShapeProblem } from './json-shape.ts';

const limits = { maxDepth: 4, maxValues: 10 };

describe('jsonShapeProblem', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['a small object', '{"a":1,"b":[1,2,3],"c":{"d":"e"}}', undefined],
    ['nesting at the limit', '[[[[1]]]]', undefined],
    ['nesting past the limit', '[[[[[1]]]]]', 'the JSON nests deeper than 4 levels'],
    ['ten values', '[1,2,3,4,5,6,7,8,9,10]', undefined],
    ['eleven values', '[1,2,3,4,5,6,7,8,9,10,11]', 'the JSON holds more than 10 values'],
    ['many empty objects', `[${'{},'.repeat(50)}{}]`, 'the JSON holds more than 10 values'],
    ['brackets and commas inside a string count for nothing', JSON.stringify({ v: '[[[[[[[[,,,,,,,,,,,,,,]]' }), undefined],
    ['an escaped quote does not end the string', JSON.stringify({ v: 'say \\"[[[[[[\\" ,,,,,,,,,,,,' }), undefined],
    ['an escaped backslash before the closing quote', '{"v":"\\\\","w":[[[[[1]]]]]}', 'the JSON nests deeper than 4 levels'],
    ['not JSON at all is left to JSON.parse', '{"a": ', undefined],
  ];
  it.each(cases)('%s', (_name, text, problem) => {
    expect(jsonShapeProblem(text, limits)).toBe(problem);
  });
});
