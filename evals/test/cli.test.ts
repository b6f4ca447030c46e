/** `pnpm evals` arguments: bad usage gets a clear message (exit code 2 in the CLI), nothing runs. */
import { parseCli } from '../src/cli-args.js';

const env = {};

describe('parseCli', () => {
  it('defaults to every suite, in process, with the offline judge; through a gateway the rule judge', () => {
    expect(parseCli([], env)).toMatchObject({ target: 'inprocess', judge: { kind: 'offline' }, repeat: 1 });
    expect(parseCli([], env).suites).toContain('frames');
    expect(parseCli(['--target', 'http://127.0.0.1:8080', '--suite', 'tools,memory'], env)).toMatchObject({ suites: ['tools', 'memory'], judge: { kind: 'rules' } });
  });

  it('reads a real judge endpoint from the environment', () => {
    const args = parseCli(['--judge', 'gpt-4o-mini', '--repeat', '3', '--record'], { EVAL_JUDGE_BASE_URL: 'http://127.0.0.1:11434/v1', EVAL_JUDGE_API_KEY: 'k' });
    expect(args.judge).toEqual({ kind: 'model', model: 'gpt-4o-mini', baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'k', repetitions: 3, record: true });
  });

  it('names each kind of bad usage', () => {
    expect(() => parseCli(['--suite', 'nope'], env)).toThrow(/unknown suite "nope"/);
    expect(() => parseCli(['--target', 'ftp://x'], env)).toThrow(/--target is inprocess or a gateway URL/);
    expect(() => parseCli(['--judge', 'gpt-4o-mini'], env)).toThrow(/needs EVAL_JUDGE_BASE_URL/);
    expect(() => parseCli(['--repeat', '0'], env)).toThrow(/--repeat must be an integer/);
    expect(() => parseCli(['report', 'only-one.json'], env)).toThrow(/report needs two results files/);
    expect(() => parseCli(['explode'], env)).toThrow(/unknown command "explode"/);
    expect(() => parseCli(['--bogus'], env)).toThrow(/Unknown option '--bogus'/);
  });
});
