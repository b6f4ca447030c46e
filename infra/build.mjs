#!/usr/bin/env node
/**
 * Compiles the gateway (and the mock model server) to JavaScript with esbuild, so production runs
 * `node` on `dist/` with no TypeScript loader.
 *
 *   node infra/build.mjs            # gateway/dist and mock-llm/dist
 *
 * gateway/dist/
 *   server/main.js     the entry point; workspace packages (@switchboard/*) bundled in, every npm
 *                      dependency left to node_modules (uWebSockets.js and PGlite load native and
 *                      WASM files from there)
 *   server/*worker.js  one bundle per `*worker.ts` file under gateway/src (worker threads)
 *   public/            the browser client SDK bundle (`/client.js`) and the chat page (`/`)
 *   prompts/           agent-core's prompts; the bundle reads `../prompts/<name>.md` beside itself
 * mock-llm/dist/main.js  the mock OpenAI-compatible server (the compose `mock` profile)
 *
 * Plain JavaScript so that it runs on a bare `node` before anything is compiled.
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// esbuild is a dependency of the gateway package (it also bundles the client in development).
const esbuild = createRequire(join(root, 'gateway', 'package.json'))('esbuild');

/**
 * Leaves a bare import to node_modules only when the package that runs the bundle (`runsFrom`)
 * resolves it to the very same file as the importing module would: then `pnpm deploy --prod` of
 * that package ships it. Workspace packages, and the dependencies only they declare, are bundled.
 */
function externalDependencies(runsFrom) {
  return {
    name: 'external-dependencies',
    setup(build) {
      const probes = new Map();
      const probe = (path, kind, resolveDir) => {
        const key = `${resolveDir}\0${path}`;
        if (!probes.has(key)) probes.set(key, build.resolve(path, { kind, resolveDir, pluginData: { probe: true } }));
        return probes.get(key);
      };
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData?.probe || args.path.startsWith('@switchboard/')) return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        const [here, there] = await Promise.all([probe(args.path, args.kind, args.resolveDir), probe(args.path, args.kind, runsFrom)]);
        if (here.errors.length === 0 && there.errors.length === 0 && here.path === there.path) return { path: args.path, external: true };
        return undefined;
      });
    },
  };
}

const nodeBundle = (runsFrom) => ({
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [externalDependencies(runsFrom)],
  // CommonJS dependencies bundled into an ES module still find `require`.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
});

/** Files under `dir` whose name matches `pattern`, recursively. */
function findFiles(dir, pattern) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findFiles(path, pattern));
    else if (pattern.test(entry.name)) found.push(path);
  }
  return found;
}

export async function build() {
  const t0 = performance.now();
  const gatewayDist = join(root, 'gateway', 'dist');
  const mockDist = join(root, 'mock-llm', 'dist');
  rmSync(gatewayDist, { recursive: true, force: true });
  rmSync(mockDist, { recursive: true, force: true });

  const gatewaySrc = join(root, 'gateway', 'src');
  const gatewayBundle = nodeBundle(join(root, 'gateway'));
  const workers = findFiles(gatewaySrc, /worker\.ts$/);
  const [page] = findFiles(gatewaySrc, /^chat-page\.html$/);
  if (!page) throw new Error('gateway/src has no chat-page.html');
  await Promise.all([
    esbuild.build({ ...gatewayBundle, entryPoints: [join(root, 'gateway/src/main.ts')], outfile: join(gatewayDist, 'server/main.js') }),
    ...workers.map((w) =>
      esbuild.build({ ...gatewayBundle, entryPoints: [w], outfile: join(gatewayDist, 'server', basename(w).replace(/\.ts$/, '.js')) }),
    ),
    esbuild.build({
      entryPoints: [join(root, 'protocol/src/browser.ts')],
      outfile: join(gatewayDist, 'public/client.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      logLevel: 'warning',
    }),
    esbuild.build({ ...nodeBundle(join(root, 'mock-llm')), entryPoints: [join(root, 'mock-llm/src/main.ts')], outfile: join(mockDist, 'main.js') }),
  ]);
  mkdirSync(join(gatewayDist, 'public'), { recursive: true });
  cpSync(page, join(gatewayDist, 'public/chat-page.html'));
  cpSync(join(root, 'agent-core/prompts'), join(gatewayDist, 'prompts'), { recursive: true });
  return { ms: Math.round(performance.now() - t0), workers: workers.map((w) => relative(root, w)) };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  build().then(
    ({ ms }) => console.log(`built gateway/dist and mock-llm/dist in ${ms} ms`),
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
