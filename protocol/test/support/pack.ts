// `pnpm pack` of the SDK for the suites that install it the way an app outside the workspace does.
// Packing rebuilds protocol/dist/, so two suites packing at once (vitest runs files in parallel)
// would corrupt each other's build: packs take turns through a lock directory.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const PROTOCOL_DIR = fileURLToPath(new URL('../..', import.meta.url));
const LOCK = join(tmpdir(), `switchboard-protocol-pack-${createHash('sha256').update(PROTOCOL_DIR).digest('hex').slice(0, 12)}.lock`);
/** A lock older than this was left by a killed run. */
const STALE_MS = 5 * 60_000;

async function withPackLock<T>(work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = await stat(LOCK).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_MS) await rmdir(LOCK).catch(() => {});
      if (Date.now() - start > 2 * STALE_MS) throw new Error(`the SDK pack lock ${LOCK} stayed taken`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await work();
  } finally {
    await rmdir(LOCK).catch(() => {});
  }
}

/**
 * Builds and packs `@switchboard/protocol` and copies the tarball into `destDir`, named by its
 * content hash (an app that installed an earlier pack then sees a new dependency, not a cached one).
 * Returns the tarball's path.
 */
export async function packSdk(destDir: string): Promise<string> {
  return withPackLock(async () => {
    const out = await mkdtemp(join(tmpdir(), 'switchboard-pack-'));
    try {
      await run('pnpm', ['pack', '--pack-destination', out], { cwd: PROTOCOL_DIR });
      const name = (await readdir(out)).find((f) => f.endsWith('.tgz'));
      if (!name) throw new Error('pnpm pack wrote no tarball');
      const hash = createHash('sha256').update(await readFile(join(out, name))).digest('hex').slice(0, 12);
      const tarball = join(destDir, name.replace(/\.tgz$/, `-${hash}.tgz`));
      await copyFile(join(out, name), tarball);
      return tarball;
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
}

/** Times named setup phases; `phases` holds each one's milliseconds once it ended (failed or not). */
export function phaseTimer(): { phases: Record<string, number>; timed<T>(name: string, work: () => Promise<T>): Promise<T> } {
  const phases: Record<string, number> = {};
  return {
    phases,
    async timed(name, work) {
      const start = Date.now();
      try {
        return await work();
      } finally {
        phases[name] = Date.now() - start;
      }
    },
  };
}
