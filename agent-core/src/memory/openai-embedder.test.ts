import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAIEmbedder, EmbeddingError } from './openai-embedder.js';

/** A real HTTP server speaking the embeddings API; `mode` injects faults. */
describe('OpenAI-compatible embedder', () => {
  let server: Server;
  let baseURL: string;
  let mode: 'ok' | 'error' | 'short' = 'ok';
  const seen: Array<{ auth?: string; body: { model: string; input: string[]; dimensions: number } }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const body = JSON.parse(raw);
        seen.push({ auth: req.headers.authorization, body });
        if (req.url !== '/v1/embeddings' || mode === 'error') {
          res.writeHead(mode === 'error' ? 500 : 404).end('boom');
          return;
        }
        const data = (body.input as string[]).map((t, index) => ({
          index,
          embedding: Array.from({ length: mode === 'short' ? 2 : body.dimensions }, (_, i) => t.length + i),
        }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: data.reverse() }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts batches and returns vectors in input order', async () => {
    mode = 'ok';
    const embedder = createOpenAIEmbedder({ baseURL, apiKey: 'sk-test', model: 'm1', dims: 3, batchSize: 2 });
    const out = await embedder.embed(['a', 'bbb', 'cc']);
    expect(out).toEqual([[1, 2, 3], [3, 4, 5], [2, 3, 4]]);
    expect(seen.slice(-2).map((s) => s.body.input)).toEqual([['a', 'bbb'], ['cc']]);
    expect(seen.at(-1)).toMatchObject({ auth: 'Bearer sk-test', body: { model: 'm1', dimensions: 3 } });
  });

  it('fails with a typed error on HTTP errors and malformed answers', async () => {
    const embedder = createOpenAIEmbedder({ baseURL, dims: 3 });
    mode = 'error';
    await expect(embedder.embed(['x'])).rejects.toMatchObject({ name: 'EmbeddingError', status: 500 });
    mode = 'short';
    await expect(embedder.embed(['x'])).rejects.toBeInstanceOf(EmbeddingError);
    const unreachable = createOpenAIEmbedder({ baseURL: 'http://127.0.0.1:1/v1', dims: 3 });
    await expect(unreachable.embed(['x'])).rejects.toBeInstanceOf(EmbeddingError);
  });
});
