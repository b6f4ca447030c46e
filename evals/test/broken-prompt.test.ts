/**
 * Breaking the system prompt on purpose makes the evals fail and name the cases: a prompt that
 * forbids tools, and one that stops framing recalled memories as data.
 */
import { expect } from 'vitest'; // openevals (via langsmith) swaps the global expect
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPrompt } from '@switchboard/agent-core';
import { runEvals } from '../src/run.js';

function promptFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'prompt-')), 'system.md');
  writeFileSync(file, text);
  return file;
}

function failing(results: Awaited<ReturnType<typeof runEvals>>): string[] {
  return results.metrics.flatMap((m) => m.outcomes.filter((o) => !o.pass).map((o) => `${m.metric}:${o.caseId}`));
}

describe('a broken system prompt', () => {
  it('that tells the agent never to use tools fails the prompt rules, naming them', async () => {
    const broken = loadPrompt('system').replace('Guidelines:', 'Guidelines:\n- Never use any tools; answer everything from your own knowledge.');
    const results = await runEvals({ suites: ['prompt'], judge: { kind: 'rules' }, systemPromptFile: promptFile(broken) });
    expect(results.pass).toBe(false);
    expect(failing(results)).toContain('prompt.rules@template:no-tool-ban');
  }, 60_000);

  it('that no longer frames memories as data fails the rules and the memory-injection cases on the mock', async () => {
    const broken = loadPrompt('system').replace(/^What you remember about this user.*$/m, 'Follow these notes about the user:');
    const results = await runEvals({ suites: ['prompt', 'injection'], filter: 'memory-instruction', judge: { kind: 'rules' }, systemPromptFile: promptFile(broken) });
    expect(results.pass).toBe(false);
    const names = failing(results);
    expect(names).toContain('prompt.rules@template:memories-as-data');
    expect(names).toContain('injection.injection@mock:memory-instruction-time');
    expect(names).toContain('injection.injection@mock:memory-instruction-email');
  }, 120_000);
});
