/**
 * A React app as a frontend developer would start one: a Vite project in a temp dir outside the
 * repo that installs the packed SDK with npm (plus react, react-dom, vite), is type-checked,
 * built with `vite build`, and served as static files from its own origin.
 *
 * npm's own cache keeps repeated installs quick (`--prefer-offline`); every run installs into a
 * fresh directory, the way a new project would.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { PROTOCOL_DIR, packSdk, phaseTimer } from '../../../protocol/test/support/pack.js';

const run = promisify(execFile);

/** What the app's package.json pins (vite 8 needs npm 10.9+/11 here; 7 also works). */
const DEPENDENCIES = { react: '19.3.1', 'react-dom': '19.3.1' };
const DEV_DEPENDENCIES = { vite: '8.3.8', '@types/react': '19.3.3', '@types/react-dom': '19.3.0' };

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head><meta charset="utf-8" /><link rel="icon" href="data:," /><title>Scratch chat</title></head>
  <body><div id="root"></div><script type="module" src="/src/main.tsx"></script></body>
</html>
`;

/**
 * The app: sign-up, then one chat session (kept across reloads) rendered with `useChatSession`.
 * The gateway is on another origin, given as `?gateway=`. Element ids are the built-in page's,
 * so the same driver reads both.
 */
const MAIN_TSX = `import { StrictMode, useEffect, useState, useSyncExternalStore, type FormEvent } from 'react';
import { createRoot } from 'react-dom/client';
import { createAuth, type AuthTokens } from '@switchboard/protocol/browser';
import { useChatSession, useSwitchboard } from '@switchboard/protocol/react';

const gateway = new URLSearchParams(location.search).get('gateway') ?? 'http://localhost:8080';
const wsUrl = gateway.replace(/^http/, 'ws') + '/v1/ws';
const SESSION_KEY = 'scratch.session';

// The login's tokens, kept in localStorage and refreshed 3 s before they expire.
const listeners = new Set<() => void>();
const auth = createAuth({ baseUrl: gateway, refreshBeforeMs: 3_000, onChange: () => listeners.forEach((l) => l()) });
const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => void listeners.delete(l);
};

function SignIn() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const res = await fetch(gateway + '/v1/auth/register', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    const body = await res.json();
    if (!res.ok) return setError(body.error?.message ?? 'HTTP ' + res.status);
    auth.setTokens(body as AuthTokens);
  };
  return (
    <form id="auth" onSubmit={submit}>
      <input id="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      <input id="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
      <button id="register">Create account</button>
      {error && <p id="auth-error">{error}</p>}
    </form>
  );
}

function Chat({ sessionId }: { sessionId: string }) {
  const { client, state, error: connectionError } = useSwitchboard({ url: wsUrl, token: auth.getAccessToken });
  const chat = useChatSession(sessionId, { client });
  const [text, setText] = useState('');
  const problem = chat.error ?? connectionError;
  return (
    <main>
      <p id="state" data-state={state}>{state}</p>
      {problem && <p id="error" role="alert">{problem.message}</p>}
      <ol id="log">
        {chat.messages.map((m) => (
          <li key={m.id} className={'msg ' + m.role} data-status={m.role === 'assistant' ? m.status : undefined}>
            <span className="text">{m.text}</span>
            {m.role === 'assistant' && m.toolCalls.map((c) => <code className="tool" key={c.callId}>{c.name} → {c.output ?? '…'}</code>)}
          </li>
        ))}
      </ol>
      <form onSubmit={(e) => { e.preventDefault(); if (chat.send(text)) setText(''); }}>
        <input id="text" value={text} onChange={(e) => setText(e.target.value)} />
        <button id="send" disabled={!chat.canSend}>Send</button>
        {chat.status === 'streaming' && <button id="stop" type="button" onClick={chat.cancel}>Stop</button>}
      </form>
    </main>
  );
}

function App() {
  const tokens = useSyncExternalStore(subscribe, () => auth.tokens);
  const [sessionId, setSessionId] = useState(() => localStorage.getItem(SESSION_KEY));
  useEffect(() => {
    if (!tokens || sessionId) return;
    let live = true;
    auth.fetch('/v1/sessions', { method: 'POST', body: '{}' })
      .then((r) => r.json())
      .then((s: { id: string }) => {
        if (!live) return;
        localStorage.setItem(SESSION_KEY, s.id);
        setSessionId(s.id);
      });
    return () => void (live = false);
  }, [tokens, sessionId]);
  if (!tokens) return <SignIn />;
  if (!sessionId) return <p>Starting a chat…</p>;
  return <Chat sessionId={sessionId} />;
}

createRoot(document.getElementById('root')!).render(<StrictMode><App /></StrictMode>);
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    module: 'ESNext',
    moduleResolution: 'Bundler',
    jsx: 'react-jsx',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  },
  include: ['src'],
};

export interface ScratchApp {
  /** The app's directory (outside the repo). */
  dir: string;
  /** The production build (`vite build`), and a development build (React's checks and StrictMode's double effects, as under `vite dev`). */
  builds: { production: string; development: string };
  /** Bytes of the built app's JavaScript, raw and gzipped. */
  appJs: { raw: number; gzip: number };
  /** Bytes of the SDK's one-file browser build as installed (`browser.min.js`), raw and gzipped. */
  sdkBundle: { raw: number; gzip: number };
  /** Milliseconds per phase (pack, install, type-check, build). */
  phases: Record<string, number>;
}

/** A fresh temp dir for the app, outside the repo. */
export function scratchDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'switchboard-react-app-'));
}

/** Where {@link buildScratchApp} puts the builds of the app in `dir`. */
export function buildDirs(dir: string): ScratchApp['builds'] {
  return { production: join(dir, 'dist'), development: join(dir, 'dist-dev') };
}

/** Creates, installs, type-checks and builds the app in `dir` (see {@link scratchDir}). */
export async function buildScratchApp(dir: string): Promise<ScratchApp> {
  const { phases, timed } = phaseTimer();
  await mkdir(join(dir, 'src'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'scratch-chat', private: true, type: 'module', scripts: { build: 'vite build' } }, null, 2));
  await writeFile(join(dir, 'index.html'), INDEX_HTML);
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  await writeFile(join(dir, 'src', 'main.tsx'), MAIN_TSX);
  const npm = (args: string[]) =>
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...args], { cwd: dir, maxBuffer: 16 << 20 }).catch((e: { stderr?: string; message: string }) => {
      throw new Error(`npm install ${args.join(' ')} failed: ${e.stderr || e.message}`);
    });
  const pin = (deps: Record<string, string>) => Object.entries(deps).map(([n, v]) => `${n}@${v}`);
  // The app's own dependencies install while the SDK builds and packs.
  const [tarball] = await Promise.all([
    timed('pack', () => packSdk(dir)),
    timed('install react and vite', async () => {
      await npm(pin(DEPENDENCIES));
      await npm(['--save-dev', ...pin(DEV_DEPENDENCIES)]);
    }),
  ]);
  await timed('install the SDK', () => npm([tarball]));
  const tsc = join(PROTOCOL_DIR, 'node_modules', '.bin', 'tsc');
  await timed('type-check', () => run(tsc, ['-p', dir], { cwd: dir })).catch((e: { stdout: string }) => {
    throw new Error(`the app does not type-check against the packed SDK:\n${e.stdout}`);
  });
  // NODE_ENV set explicitly: the test runner's own (`test`) would give React's development build.
  const vite = (mode: string, outDir: string) =>
    run(join(dir, 'node_modules', '.bin', 'vite'), ['build', '--mode', mode, '--outDir', outDir, '--logLevel', 'warn'], { cwd: dir, env: { ...process.env, NODE_ENV: mode } }).catch(
      (e: { stderr: string; message: string }) => {
        throw new Error(`vite build --mode ${mode} failed: ${e.stderr || e.message}`);
      },
    );
  await timed('vite build', () => Promise.all([vite('production', 'dist'), vite('development', 'dist-dev')]));
  const assets = join(dir, 'dist', 'assets');
  const js = (await readdir(assets)).filter((f) => f.endsWith('.js'));
  const code = Buffer.concat(await Promise.all(js.map((f) => readFile(join(assets, f)))));
  const sdk = readFileSync(join(dir, 'node_modules', '@switchboard', 'protocol', 'dist', 'switchboard.browser.min.js'));
  return {
    dir,
    builds: buildDirs(dir),
    appJs: { raw: code.length, gzip: gzipSync(code).length },
    sdkBundle: { raw: sdk.length, gzip: gzipSync(sdk).length },
    phases,
  };
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css', '.svg': 'image/svg+xml' };

/** Serves a built app's directory (it may not exist yet) on 127.0.0.1, port 0, as any static host would. */
export async function serveStatic(root: string): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, path === '/' ? 'index.html' : path);
    if (!file.startsWith(root)) return res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' }).end(body),
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end('not found'),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
