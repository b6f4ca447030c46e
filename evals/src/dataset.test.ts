/** Datasets: every committed file parses; a malformed line is named by file and line. */
import { EvalCase, loadCases, parseJsonl } from './dataset.js';
import { evalsPaths } from './paths.js';

describe('datasets', () => {
  it('loads every committed case with unique ids', () => {
    const cases = loadCases(evalsPaths.datasets);
    expect(cases.length).toBeGreaterThan(50);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  it('names the file and line of a bad case', () => {
    expect(() => parseJsonl('// ok\n{"id":"a","suite":"tools","turns":[{"text":"hi"}]}\n{not json', EvalCase, 'x.jsonl')).toThrow(/x\.jsonl:3: not JSON/);
    expect(() => parseJsonl('{"id":"A b","suite":"tools","turns":[{"text":"hi"}]}', EvalCase, 'y.jsonl')).toThrow(/y\.jsonl:1: id: ids are lowercase/);
    expect(() => parseJsonl('{"id":"a","suite":"nope","turns":[{"text":"hi"}]}', EvalCase, 'z.jsonl')).toThrow(/z\.jsonl:1: suite/);
    expect(() => parseJsonl('{"id":"a","suite":"tools","turns":[]}', EvalCase, 'w.jsonl')).toThrow(/w\.jsonl:1: turns/);
    expect(() => parseJsonl('{"id":"a","suite":"tools","turns":[{"text":"hi"}],"extra":1}', EvalCase, 'v.jsonl')).toThrow(/v\.jsonl:1/);
    expect(() => parseJsonl(`{"id":"a","suite":"tools","turns":[{"text":"${'x'.repeat(8001)}"}]}`, EvalCase, 'u.jsonl')).toThrow(/u\.jsonl:1: turns\.0\.text/);
  });
});
