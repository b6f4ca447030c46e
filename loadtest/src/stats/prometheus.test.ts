import { byLabel, parsePrometheusText, PromParseError, sumMetric } from './prometheus.js';

const TEXT = `# HELP switchboard_frames_out_total Frames sent
# TYPE switchboard_frames_out_total counter
switchboard_frames_out_total{type="token",node="a"} 120
switchboard_frames_out_total{type="done",node="a"} 3
switchboard_frames_in_total{type="send"} 3 1700000000000
switchboard_backpressure_closes_total 2
switchboard_connections 5
weird{msg="a \\"quoted\\" value, with comma",b="x\\ny"} 1.5e3
inf_metric +Inf
nan_metric NaN
`;

describe('Prometheus text parser', () => {
  const samples = parsePrometheusText(TEXT);

  it('skips comments and reads names, labels and values (timestamps ignored)', () => {
    expect(samples).toHaveLength(8);
    expect(samples[0]).toEqual({ name: 'switchboard_frames_out_total', labels: { type: 'token', node: 'a' }, value: 120 });
    expect(samples[2]).toEqual({ name: 'switchboard_frames_in_total', labels: { type: 'send' }, value: 3 });
  });

  it('unescapes label values', () => {
    expect(samples[5]!.labels).toEqual({ msg: 'a "quoted" value, with comma', b: 'x\ny' });
    expect(samples[5]!.value).toBe(1500);
  });

  it('reads special values', () => {
    expect(samples[6]!.value).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(samples[7]!.value)).toBe(true);
  });

  it('sums and groups by label', () => {
    expect(sumMetric(samples, 'switchboard_frames_out_total')).toBe(123);
    expect(sumMetric(samples, 'switchboard_frames_out_total', { type: 'done' })).toBe(3);
    expect(sumMetric(samples, 'missing_total')).toBeUndefined();
    expect(byLabel(samples, 'switchboard_frames_out_total', 'type')).toEqual({ token: 120, done: 3 });
  });

  it('rejects malformed lines with the line number', () => {
    expect(() => parsePrometheusText('ok 1\n{bad} 2\n')).toThrow(PromParseError);
    expect(() => parsePrometheusText('ok 1\n{bad} 2\n')).toThrow(/line 2/);
    expect(() => parsePrometheusText('x{a="1"} notanumber')).toThrow(/bad value/);
    expect(() => parsePrometheusText('x{a="unterminated} 1')).toThrow(/unterminated/);
    expect(() => parsePrometheusText('x{a=1} 1')).toThrow(/="value"/);
  });

  it('accepts empty input', () => {
    expect(parsePrometheusText('')).toEqual([]);
  });
});
