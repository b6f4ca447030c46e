import { runObservedFlow, type FlowResult } from './test-flow.js';

let flow: FlowResult;
beforeAll(async () => {
  flow = await runObservedFlow();
});

it('probe', () => {
  console.log(flow.scrape);
  console.log(JSON.stringify(flow.exports.map((e) => ({ path: e.path, spans: e.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans.map((x) => ({ name: x.name, parent: x.parentSpanId, attrs: x.attributes?.map((a) => a.key + '=' + JSON.stringify(a.value)).join(' ') })))) })), null, 1));
  console.log(flow.rawLogs.split('\n').filter(l => l.includes('"info"') || l.includes('"warn"')).join('\n'));
});
