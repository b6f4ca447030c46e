// Builds the publishable package into dist/: ES modules (one per source file, so bundlers can
// drop what an app does not use), declarations from tsc, and one minified browser bundle.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

rmSync(dist, { recursive: true, force: true });
await build({
  entryPoints: sources(src),
  outdir: dist,
  outbase: src,
  format: 'esm',
  platform: 'neutral',
  target: 'es2020',
  sourcemap: true,
  logLevel: 'warning',
});
await build({
  entryPoints: [join(src, 'browser.ts')],
  outfile: join(dist, 'switchboard.browser.min.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
const tsc = join(root, 'node_modules', '.bin', 'tsc');
execFileSync(tsc, ['-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
console.log(`built ${relative(process.cwd(), dist) || 'dist'}`);
