// The packed SDK as an app outside the workspace gets it: `pnpm pack`, `npm install` of the
// tarball into a scratch app, a strict type-check of the app against the published typings, and
// a chat run by the compiled app (plain JavaScript, no TypeScript at run time) against a gateway.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { startGateway, type TestGateway } from './support/gateway.js';
import { packSdk, phaseTimer } from './support/pack.js';

const run = promisify(execFile);
const pkgDir = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(pkgDir, 'node_modules', '.bin', 'tsc');

const app = `
import { createNodeClient, type RunHandle } from '@switchboard/protocol/node';
import { parseServerFrame, textProblem, SwitchboardError, type ConnectionState } from '@switchboard/protocol';
import { SwitchboardClient as BrowserClient, createAuth } from '@switchboard/protocol/browser';
import { useChatSession, reduceChat, emptyChat, type ChatSessionHook } from '@switchboard/protocol/react';

declare const process: { argv: string[] };
const [url, token, sessionId] = process.argv.slice(2) as [string, string, string];

const states: ConnectionState[] = [];
const client = createNodeClient({ url, token });
client.on('state', (s) => states.push(s));
await client.connect();
let refused = '';
try {
  client.send({ sessionId, text: '€'.repeat(25_000) });
} catch (e) {
  if (e instanceof SwitchboardError) refused = e.code;
}
const handle: RunHandle = client.send({ sessionId, text: 'What is 12*(3+4)?' });
let text = '';
for await (const frame of handle) if (frame.type === 'token') text += frame.text;
const done = await handle.done;
client.close();

// The React and browser entry points load without a DOM; their types are checked above.
const hook: (id: string) => ChatSessionHook = useChatSession;
const chat = reduceChat(emptyChat(sessionId), { type: 'user', sessionId, runId: 'r', seq: 1, id: 'm', text: 'hi' });
console.log(JSON.stringify({
  text, reason: done.reason, states, refused,
  problem: textProblem('€'.repeat(25_000)),
  schema: parseServerFrame('{"type":"pong"}').ok,
  react: typeof hook, browser: typeof BrowserClient, auth: typeof createAuth, messages: chat.messages.length,
}));
`;

const tsconfig = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    lib: ['ES2022', 'DOM'],
    types: [],
    strict: true,
    skipLibCheck: false,
    outDir: 'out',
  },
  include: ['src'],
};

let t: TestGateway;
let dir: string;
beforeAll(async () => {
  t = await startGateway();
  dir = await mkdtemp(join(tmpdir(), 'switchboard-app-'));
});
afterAll(async () => {
  await t.stop();
  await rm(dir, { recursive: true, force: true });
});

it('packs, installs into an app outside the workspace, type-checks and chats', async () => {
  const { phases, timed } = phaseTimer();
  const appDir = join(dir, 'app');
  await mkdir(join(appDir, 'src'), { recursive: true });
  await writeFile(join(appDir, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }));
  await writeFile(join(appDir, 'tsconfig.json'), JSON.stringify(tsconfig));
  await writeFile(join(appDir, 'src', 'chat.ts'), app);
  const npm = (args: string[]) => run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...args], { cwd: appDir });
  // The app's own dependencies install while the SDK builds and packs.
  const [tarball] = await Promise.all([
    timed('pack', () => packSdk(dir)),
    timed('install react', () => npm(['react@19.3.1', '@types/react@19.3.3'])),
  ]);
  const { stdout: listing } = await run('tar', ['tzf', tarball]);
  const files = listing.trim().split('\n');
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files).toContain('package/dist/react/index.js');

  await timed('install the tarball', () => npm([tarball]));

  const minified = readFileSync(join(appDir, 'node_modules/@switchboard/protocol/dist/switchboard.browser.min.js'));
  expect(gzipSync(minified).length).toBeLessThan(30 * 1024);
  // A bundler resolves the ESM build through the exports map and leaves zod and ws out of a web app.
  const bundled = await build({
    stdin: {
      contents: "import { SwitchboardClient, createAuth, getChatStore } from '@switchboard/protocol/browser'; import { useChatSession } from '@switchboard/protocol/react'; console.log(SwitchboardClient, createAuth, getChatStore, useChatSession);",
      resolveDir: appDir,
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    minify: true,
    write: false,
    external: ['react'],
    metafile: true,
  });
  const inputs = Object.keys(bundled.metafile.inputs);
  expect(inputs.some((p) => p.includes('node_modules/@switchboard/protocol/dist/'))).toBe(true);
  expect(inputs.filter((p) => /node_modules\/(zod|ws)\//.test(p))).toEqual([]);
  expect(gzipSync(bundled.outputFiles[0]!.contents).length).toBeLessThan(30 * 1024);

  await timed('type-check', () => run(tsc, ['-p', appDir], { cwd: appDir })).catch((e: { stdout: string }) => {
    throw new Error(`the app does not type-check against the packed SDK:\n${e.stdout}`);
  });
  const u = await t.user();
  const sessionId = await t.session(u.token);
  const { stdout } = await timed('chat', () => run('node', [join(appDir, 'out', 'chat.js'), t.wsUrl, u.token, sessionId], { cwd: appDir }));
  console.log('pack test phases (ms):', JSON.stringify(phases));
  const result = JSON.parse(stdout.trim().split('\n').pop()!);
  expect(result).toMatchObject({
    reason: 'stop',
    states: ['connecting', 'connected', 'disconnected'],
    refused: 'too_large',
    schema: true,
    react: 'function',
    browser: 'function',
    auth: 'function',
    messages: 2,
  });
  expect(result.text).toContain('84');
  expect(result.problem).toMatch(/75000 bytes/);
}, 120_000);
