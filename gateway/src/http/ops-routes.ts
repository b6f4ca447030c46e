import type { Router } from './router.js';
import { json } from './router.js';
import type { ReadinessProbe } from '../ports.js';


/** `/healthz` (alive) and `/readyz` (dependencies, transport, draining). */
export function addOpsRoutes(
  router: Router,
  deps: { probes: ReadinessProbe[]; info: () => Record<string, unknown>; draining: () => boolean },
): void {
  router
    .add('GET', '/healthz', async () => json(200, { status: 'ok' }))
    .add('GET', '/readyz', async () => {
      const checks: Record<string, string> = {};
      let ready = !deps.draining();
      await Promise.all(
        deps.probes.map(async (p) => {
          try {
            await withTimeout(p.check(), 2000);
            checks[p.name] = 'ok';
          } catch (e) {
            ready = false;
            checks[p.name] = `failing: ${e instanceof Error ? e.message : String(e)}`;
          }
        }),
      );
      return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', draining: deps.draining(), checks, ...deps.info() });
    });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
