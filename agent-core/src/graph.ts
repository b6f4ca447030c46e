/**
 * The LangGraph engine: a StateGraph of two nodes (model ⇄ tools) that run the shared steps,
 * checkpointed by LangGraph's Pregel runtime after every step or once at exit.
 */
import { HumanMessage } from '@langchain/core/messages';
import { END, START, StateGraph, type LangGraphRunnableConfig } from '@langchain/langgraph';
import { AgentState, type AgentStateUpdate, type AgentStateValue } from './agent-state.js';
import { turnConfigurable, type AgentEngine, type Durability, type EngineDeps, type EngineTurn } from './engine.js';
import { callModel, callTools, hasPendingCalls, type RunSignal, type StepContext } from './steps.js';

/** Only the caller's keys of `configurable` (thread_id, userId, …), not LangGraph's internals. */
function publicConfigurable(config: LangGraphRunnableConfig): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config.configurable ?? {}).filter(([key]) => !key.startsWith('__') && !key.startsWith('checkpoint_')),
  );
}

/** A node's view of the run: LangGraph's config carries the signal and the run's writer. */
function stepContext(config: LangGraphRunnableConfig): StepContext {
  return {
    signal: config.signal,
    emit: (signal: RunSignal) => config.writer?.(signal),
    modelConfig: config,
    toolConfig: { callbacks: config.callbacks, configurable: publicConfigurable(config) },
  };
}

/** Builds and compiles the model ⇄ tools StateGraph. */
export function buildAgentGraph(deps: EngineDeps) {
  const model = (state: AgentStateValue, config: LangGraphRunnableConfig): Promise<AgentStateUpdate> => callModel(deps, state, stepContext(config));
  const tools = (state: AgentStateValue, config: LangGraphRunnableConfig): Promise<AgentStateUpdate> => callTools(deps, state, stepContext(config));
  return new StateGraph(AgentState)
    .addNode('model', model)
    .addNode('tools', tools)
    .addEdge(START, 'model')
    .addConditionalEdges('model', (state) => (hasPendingCalls(state.messages) ? 'tools' : END), ['tools', END])
    .addConditionalEdges('tools', (state) => (state.limitReached ? END : 'model'), ['model', END])
    .compile({ checkpointer: deps.checkpointer });
}

export type AgentGraph = ReturnType<typeof buildAgentGraph>;

/** The LangGraph engine: each turn is one `graph.stream` whose nodes write to the turn's sink. */
export function createGraphEngine(deps: EngineDeps, durability: Durability): AgentEngine {
  const graph = buildAgentGraph(deps);
  async function run(turn: EngineTurn, emit: (signal: RunSignal) => void, signal: AbortSignal): Promise<void> {
    // LangGraph keeps a writer given in the run's config (and hands it to every node).
    const runConfig = {
      configurable: turnConfigurable(turn),
      streamMode: 'custom' as const,
      writer: emit,
      signal,
      recursionLimit: deps.maxToolRounds * 2 + 10,
      durability,
    };
    const events = await graph.stream({ messages: [new HumanMessage(turn.text)], memoryContext: turn.memoryContext, toolRounds: 0, limitReached: false }, runConfig);
    for await (const _ of events); // nothing arrives here: the writer is ours
  }
  return { run };
}
