/**
 * The mock OpenAI server in a child process, so that a benchmark's `process.cpuUsage()` counts
 * the client side only. The parent passes the scenarios (model name → scenario) as JSON in
 * MOCK_SCENARIOS and receives `{ url }` over IPC; the child exits when the parent disconnects.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createMockOpenAI, parseScenarioMap, type MockScenario } from '@switchboard/mock-llm';

export interface MockProcess {
  url: string;
  close(): Promise<void>;
}

/** Starts the mock in a child process (same loader as this process, without profiling flags). */
export async function startMockProcess(scenarios: Record<string, MockScenario>): Promise<MockProcess> {
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof') && !arg.startsWith('--prof'));
  const child = fork(fileURLToPath(import.meta.url), ['--child'], {
    execArgv,
    env: { ...process.env, MOCK_SCENARIOS: JSON.stringify(scenarios) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`mock process exited with ${code}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.disconnect();
      }),
  };
}

if (process.argv.includes('--child') && process.send) {
  const mock = await createMockOpenAI({ scenarios: parseScenarioMap(process.env.MOCK_SCENARIOS ?? '{}', 'MOCK_SCENARIOS') });
  process.send({ url: mock.url });
  process.once('disconnect', () => void mock.close().then(() => process.exit(0)));
}
