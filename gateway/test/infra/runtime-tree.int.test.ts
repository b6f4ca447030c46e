/**
 * The image's runtime tree, built natively (no Docker engine): the same script the Dockerfile runs
 * (infra/scripts/build-runtime-tree.sh: compile to dist/, `pnpm deploy --prod`), then the gateway
 * started from it with `node` — on embedded defaults, and with production settings on server
 * Postgres, Redis and the mock model.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMockOpenAI } from '@switchboard/mock-llm';
import { chatOverHttp, createTestDatabase, JWT_SECRET, productionServices, REPO_ROOT, startGatewayProcess, TEST_REDIS_URL, type GatewayProcess } from './gateway-process.js';

const base = mkdtempSync(join(tmpdir(), 'sb-runtime-'));
const tree = join(base, 'app');
const services = await productionServices();

beforeAll(() => {
  execFileSync('bash', [join(REPO_ROOT, 'infra/scripts/build-runtime-tree.sh'), tree], { cwd: REPO_ROOT, stdio: 'pipe', timeout: 180_000 });
  const kb = Number(execFileSync('du', ['-sk', tree], { encoding: 'utf8' }).split('\t')[0]);
  console.log(`runtime tree: ${(kb / 1024).toFixed(0)} MiB (du -sk ${kb})`);
}, 200_000);

afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Files under `dir` (relative paths), skipping `node_modules`. */
function filesOutsideNodeModules(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((e) => {
    const rel = join(prefix, e.name);
    if (e.name === 'node_modules') return [];
    return e.isDirectory() ? filesOutsideNodeModules(dir, rel) : [rel];
  });
}

describe('runtime tree', () => {
  it('holds compiled JavaScript and production dependencies only', () => {
    expect(readdirSync(tree).sort()).toEqual(['dist', 'node_modules', 'package.json']);
    const files = filesOutsideNodeModules(tree);
    expect(files).toContain(join('dist', 'server', 'main.js'));
    expect(files).toContain(join('dist', 'public', 'client.js'));
    expect(files).toContain(join('dist', 'public', 'chat-page.html'));
    expect(files).toContain(join('dist', 'prompts', 'system.md'));
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    const store = readdirSync(join(tree, 'node_modules', '.pnpm'));
    const dev = store.filter((p) => /^(tsx|vitest|@vitest\+|typescript|autocannon|socket\.io|@switchboard\+loadtest|@switchboard\+mock-llm)(@|$)/.test(p));
    expect(dev).toEqual([]);
    for (const name of ['tsx', 'vitest', 'typescript', '@switchboard/loadtest', '@switchboard/mock-llm']) expect(existsSync(join(tree, 'node_modules', name)), name).toBe(false);
  });

  it('is what the image ships and runs', () => {
    const dockerfile = readFileSync(join(REPO_ROOT, 'infra/Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^FROM node:20-bookworm-slim AS runtime$/m);
    expect(dockerfile).toMatch(/^RUN .*bash infra\/scripts\/build-runtime-tree\.sh \/app$/m);
    expect(runtime).toMatch(/^COPY --from=build \/app \/app$/m);
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    expect(runtime).toMatch(/^CMD \["node", "--enable-source-maps", "dist\/server\/main\.js"\]$/m);
    expect(runtime).not.toMatch(/tsx|vitest|loadtest/);
  });

  describe('started with node', () => {
    let gw: GatewayProcess | undefined;
    afterEach(async () => {
      await gw?.stop();
      gw = undefined;
    });

    it('serves on embedded defaults: health, readiness, the page, the client and a chat', async () => {
      const dataDir = join(base, 'data');
      gw = await startGatewayProcess('runtime-embedded', { cwd: tree, args: ['dist/server/main.js'], env: { DATA_DIR: dataDir, LOCAL_MODEL_TOKEN_DELAY_MS: '1' } });
      expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${gw.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ready', database: 'pglite', model: 'local' });
      const page = await fetch(`${gw.url}/`);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toMatch(/client\.js/);
      const client = await fetch(`${gw.url}/client.js`);
      expect(client.status).toBe(200);
      expect(await client.text()).toMatch(/SwitchboardClient|switchboard\.v1/);
      const chat = await chatOverHttp(gw.url, 'What is 12*(3+4)?');
      expect(chat.status).toBe(200);
      expect(chat.done).toMatchObject({ type: 'done', reason: 'stop', model: 'local' });
      expect(chat.frames.map((f) => f.seq)).toEqual(chat.frames.map((_, i) => i + 1));
    }, 120_000);

    it.skipIf(!services.available)('serves with production settings: server Postgres, Redis, a model endpoint', async () => {
      const db = await createTestDatabase();
      const mock = await createMockOpenAI({ port: 0 });
      try {
        gw = await startGatewayProcess('runtime-production', {
          cwd: tree,
          args: ['dist/server/main.js'],
          env: {
            NODE_ENV: 'production',
            APP_ENV: 'production',
            LOG_FORMAT: 'json',
            DATA_DIR: join(base, 'prod-data'),
            DATABASE_URL: db.url,
            REDIS_URL: TEST_REDIS_URL,
            JWT_SECRET,
            LLM_MODELS: JSON.stringify([{ name: 'primary', model: 'mock-model', baseURL: mock.url, apiKey: 'mock-key' }]),
          },
        });
        expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
        const ready = await fetch(`${gw.url}/readyz`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ status: 'ready', database: 'postgres', bus: 'redis' });
        const chat = await chatOverHttp(gw.url, 'hello from the runtime tree');
        expect(chat.status).toBe(200);
        expect(chat.done).toMatchObject({ type: 'done', reason: 'stop', model: 'primary' });
        expect(chat.text.length).toBeGreaterThan(0);
        // Production logs are JSON lines.
        expect(gw.child.output()).toMatch(/^\{.*"message":"gateway listening".*\}$/m);
      } finally {
        await gw?.stop();
        gw = undefined;
        await mock.close();
        await db.drop();
      }
    }, 120_000);
  });
});
