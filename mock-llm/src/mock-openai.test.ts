/** The mock OpenAI server over real HTTP (node's fetch): wire format, faults, counters. */
import { createMockOpenAI, type MockOpenAI } from './server.js';
import { MockScenarioError, parseScenarioMap, parseScenarioSpec } from './scenario.js';

let mock: MockOpenAI;
beforeAll(async () => {
  mock = await createMockOpenAI();
});
afterAll(async () => {
  await mock.close();
});
beforeEach(() => {
  for (const name of ['m', 'x']) mock.setScenario(name, undefined);
  mock.reset();
});

function chat(body: Record<string, unknown>, init: RequestInit = {}): Promise<Response> {
  return fetch(`${mock.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello' }], ...body }),
    signal: init.signal,
  });
}

/** Reads an SSE body into its `data:` payloads (raw strings). */
async function sseData(res: Response): Promise<string[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice('data: '.length));
}

describe('mock OpenAI server', () => {
  it('streams SSE chunks with role, tokens, finish, usage and [DONE]', async () => {
    const res = await chat({ stream: true, stream_options: { include_usage: true } });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const data = await sseData(res);
    expect(data.at(-1)).toBe('[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>; usage?: { completion_tokens: number } });
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    const tokens = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).filter(Boolean);
    expect(tokens).toHaveLength(12);
    expect(chunks.at(-2)?.choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(chunks.at(-1)?.usage?.completion_tokens).toBe(12);
    // Deterministic: the same prompt gives the same answer.
    const again = await (await chat({ stream: false })).json() as { choices: Array<{ message: { content: string } }> };
    expect(again.choices[0].message.content).toBe(tokens.join(''));
  });

  it('answers 429 with Retry-After, then succeeds after failFirst requests', async () => {
    mock.setScenario('m', { fault: '429', failFirst: 2, retryAfterSec: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat({});
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toBe('3');
        expect(await res.json()).toMatchObject({ error: { type: 'rate_limit_error' } });
      } else await res.arrayBuffer();
    }
    expect(statuses).toEqual([429, 429, 200]);
    expect(mock.stats.models.m).toMatchObject({ requests: 3, outcomes: { '429': 2, ok: 1 } });
  });

  it('takes a scenario from the x-mock-scenario header', async () => {
    const res = await chat({}, { headers: { 'x-mock-scenario': '503' } });
    expect(res.status).toBe(503);
    const json = await chat({}, { headers: { 'x-mock-scenario': '{"text":"fixed answer"}' } });
    expect(await json.json()).toMatchObject({ choices: [{ message: { content: 'fixed answer' } }] });
    const bad = await chat({}, { headers: { 'x-mock-scenario': 'explode' } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/fault must be one of/);
  });

  it('counts a hang the client gives up on as a disconnect', async () => {
    mock.setScenario('m', { fault: 'hang' });
    const ctrl = new AbortController();
    const pending = chat({ stream: true }, { signal: ctrl.signal }).catch((e: unknown) => e);
    await mock.waitFor((s) => s.inFlight === 1);
    ctrl.abort();
    expect(await pending).toMatchObject({ name: 'AbortError' });
    await mock.waitFor((s) => s.aborted === 1);
    expect(mock.stats).toMatchObject({ inFlight: 0, aborted: 1, outcomes: { hang: 1 } });
  });

  it('counts a client that leaves mid-stream as aborted', async () => {
    mock.setScenario('m', { tokensPerSecond: 50 });
    const ctrl = new AbortController();
    const res = await chat({ stream: true }, { signal: ctrl.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ctrl.abort();
    await mock.waitFor((s) => s.aborted === 1);
    expect(mock.stats.models.m.outcomes).toEqual({ aborted: 1 });
  });

  it('cuts the stream after N chunks by destroying the socket', async () => {
    mock.setScenario('m', { fault: 'cut', cutAfterChunks: 3 });
    const res = await chat({ stream: true });
    const error = await res.text().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(mock.stats.outcomes).toEqual({ cut: 1 });
    expect(mock.stats.aborted).toBe(0);
  });

  it('sends a non-JSON chunk for the malformed fault', async () => {
    mock.setScenario('m', { fault: 'malformed', malformedAfterChunks: 2 });
    const data = await sseData(await chat({ stream: true }));
    expect(() => JSON.parse(data[2])).toThrow(SyntaxError);
    expect(mock.stats.outcomes).toEqual({ malformed: 1 });
  });

  it('answers embeddings as floats or base64, honouring dimensions', async () => {
    const post = (body: unknown): Promise<Response> =>
      fetch(`${mock.url}/embeddings`, { method: 'POST', body: JSON.stringify(body) });
    const floats = (await (await post({ model: 'e', input: ['a b', 'c'], dimensions: 8 })).json()) as { data: Array<{ embedding: number[] }> };
    expect(floats.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    const b64 = (await (await post({ model: 'e', input: 'a b', dimensions: 8, encoding_format: 'base64' })).json()) as { data: Array<{ embedding: string }> };
    const buf = Buffer.from(b64.data[0].embedding, 'base64');
    expect(Array.from(new Float32Array(buf.buffer, buf.byteOffset, 8))).toEqual(floats.data[0].embedding);
    expect((await post({ model: 'e', input: [] })).status).toBe(400);
    expect((await post({ model: 'e', input: 'x', dimensions: 0 })).status).toBe(400);
  });

  it('lists models and rejects bad requests with OpenAI-style errors', async () => {
    mock.setScenario('x', {});
    const models = (await (await fetch(`${mock.url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(models.data.map((m) => m.id)).toContain('x');
    const notJson = await fetch(`${mock.url}/chat/completions`, { method: 'POST', body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
    expect((await chat({ messages: [] })).status).toBe(400);
    expect((await chat({ model: 42 })).status).toBe(400);
    expect((await fetch(`${mock.url}/nope`)).status).toBe(404);
    expect(mock.stats.outcomes).toMatchObject({ bad_request: 3, not_found: 1 });
  });

  it('parses scenario specs from flags and JSON, with clear errors', () => {
    expect(parseScenarioSpec('fault=429,retryAfterSec=2', '--model p')).toEqual({ fault: '429', retryAfterSec: 2 });
    expect(parseScenarioSpec('hang', '--model p')).toEqual({ fault: 'hang' });
    expect(parseScenarioMap('{"a":{"ttftMs":5},"b":"cut"}', 'MOCK_SCENARIOS')).toEqual({ a: { ttftMs: 5 }, b: { fault: 'cut' } });
    expect(() => parseScenarioSpec('ttftMs=-1', '--default')).toThrow(/--default: ttftMs must be a number >= 0/);
    expect(() => parseScenarioSpec('speed=3', '--default')).toThrow(/unknown scenario key "speed"/);
    expect(() => parseScenarioMap('[1]', 'MOCK_SCENARIOS')).toThrow(MockScenarioError);
    expect(() => parseScenarioMap('{', 'MOCK_SCENARIOS')).toThrow(/MOCK_SCENARIOS: invalid JSON/);
  });
});
