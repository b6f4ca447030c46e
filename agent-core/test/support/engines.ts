import { createAgent, type Agent } from '../../src/agent.js';
import type { AgentOptions } from '../../src/agent-options.js';
import { AGENT_ENGINES, type AgentEngineName } from '../../src/engine.js';

/** The engines every agent contract test runs against. */
export { AGENT_ENGINES };

/** `createAgent` on one engine (an `engine` in the options still wins). */
export function agentOn(engine: AgentEngineName): (options: AgentOptions) => Agent {
  return (options) => createAgent({ engine, ...options });
}
