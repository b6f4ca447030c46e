import type { SwitchboardClient } from './client.js';
import { SwitchboardError } from './errors.js';
import type { SendFrame } from './frames.js';
import { isSessionFrame } from './guard.js';
import type { RunHandle } from './run-stream.js';
import { readJson, writeJson, type StorageLike } from './storage.js';
import { addPendingUser, dropPendingUser, emptyChat, isChatState, mergeHistory, reduceChat, type AssistantMessage, type ChatState, type HistoryRow } from './chat-state.js';

/** Options of {@link getChatStore} (and `useChatSession`). */
export interface ChatStoreOptions {
  /** Where the transcript and its `lastSeq` are kept, so a reloaded page shows them and resumes mid-answer. `null` keeps nothing. @default the client's storage (localStorage in browsers) */
  storage?: StorageLike | null;
  /** Prefix of the storage key. @default 'switchboard.chat' */
  storageKey?: string;
  /** Most messages kept in storage. @default 200 */
  maxStoredMessages?: number;
  /**
   * Reads the session's stored transcript (`GET /v1/sessions/:id/messages`), called when the server
   * could not replay what this client missed (its log was lost or trimmed: `joined{gap:true}`);
   * the transcript fills the hole, then the frames go on live. Without it, `gap` stays set.
   * @example loadHistory: async (id) => (await (await auth.fetch(`/v1/sessions/${id}/messages`)).json()).messages
   */
  loadHistory?: (sessionId: string) => Promise<readonly HistoryRow[]>;
}

/** What `useChatSession` returns, and what a chat store's snapshot holds. */
export interface ChatSnapshot extends ChatState {
  /** `idle`, `streaming` (a run is going), or `error` (the last send or run failed). */
  status: 'idle' | 'streaming' | 'error';
  /** The streaming answer's text so far ('' when no run is going). */
  streamingText: string;
  /** The last failure: a refused send (busy, too large), a failed run, a lost session. Cleared by the next send. */
  error: SwitchboardError | null;
  /** True once the session was joined (its frames are live). */
  joined: boolean;
  /** True from `send` until that run ends (or the send is refused), even before the server echoed the message: no second send meanwhile. */
  sending: boolean;
}

/** A session's chat state fed by a client's frames; one per client and session. */
export interface ChatStore {
  getSnapshot(): ChatSnapshot;
  subscribe(listener: () => void): () => void;
  /** Sends a message; `null` (and `error` set) when it was refused before sending. */
  send(text: string, options?: { ifBusy?: SendFrame['ifBusy'] }): RunHandle | null;
  /** Cancels the streaming run, whoever started it. */
  cancel(): void;
  /** Starts following the session (join from the stored `lastSeq`) on first use; returns the matching release (saves the transcript). */
  retain(): () => void;
}

const SAVE_MS = 300;
const stores = new WeakMap<SwitchboardClient, Map<string, ChatStore>>();

/**
 * The chat store of one session on one client (shared by every component that shows it).
 * @example
 * const store = getChatStore(client, sessionId);
 * const release = store.retain();
 * store.subscribe(() => render(store.getSnapshot()));
 */
export function getChatStore(client: SwitchboardClient, sessionId: string, options: ChatStoreOptions = {}): ChatStore {
  let perClient = stores.get(client);
  if (!perClient) stores.set(client, (perClient = new Map()));
  let store = perClient.get(sessionId);
  if (!store) perClient.set(sessionId, (store = createChatStore(client, sessionId, options)));
  return store;
}

function derive(state: ChatState, error: SwitchboardError | null, joined: boolean, sending: boolean): ChatSnapshot {
  const active = state.activeRunId ? (state.messages.find((m) => m.role === 'assistant' && m.id === state.activeRunId) as AssistantMessage | undefined) : undefined;
  const last = [...state.messages].reverse().find((m): m is AssistantMessage => m.role === 'assistant');
  const runError = !state.activeRunId && last?.reason === 'error' && last.error ? new SwitchboardError(last.error.message, last.error.code) : null;
  const err = error ?? runError;
  return { ...state, status: state.activeRunId ? 'streaming' : err ? 'error' : 'idle', streamingText: active?.text ?? '', error: err, joined, sending };
}

function createChatStore(client: SwitchboardClient, sessionId: string, options: ChatStoreOptions): ChatStore {
  const storage = options.storage === undefined ? client.storage : options.storage;
  const key = `${options.storageKey ?? 'switchboard.chat'}.${sessionId}`;
  const maxStored = options.maxStoredMessages ?? 200;
  let state: ChatState = readJson(storage, key, isChatState) ?? emptyChat(sessionId);
  if (state.sessionId !== sessionId) state = emptyChat(sessionId);
  let error: SwitchboardError | null = null;
  let joined = false;
  /** This store's sends whose runs have not ended. */
  const inFlight = new Set<RunHandle>();
  let snapshot = derive(state, error, joined, false);
  let saveTimer: ReturnType<typeof setTimeout> | null = null;
  let refs = 0;
  let started = false;
  const listeners = new Set<() => void>();

  const save = () => {
    if (saveTimer) clearTimeout(saveTimer);
    saveTimer = null;
    const messages = state.messages.filter((m) => !(m.role === 'user' && m.pending)).slice(-maxStored);
    writeJson(storage, key, { ...state, messages });
  };
  const publish = (next: ChatState, nextError = error, persist: 'now' | 'later' | 'no' = 'later', force = false) => {
    if (next === state && nextError === error && !force) return;
    state = next;
    error = nextError;
    snapshot = derive(state, error, joined, inFlight.size > 0);
    if (persist === 'now') save();
    else if (persist === 'later' && storage) saveTimer ??= setTimeout(save, SAVE_MS);
    for (const l of [...listeners]) l();
  };
  const fail = (e: unknown) => publish(state, e instanceof SwitchboardError ? e : new SwitchboardError(String(e), 'internal'), 'no');

  // Once started, the store keeps folding the session's frames for as long as the client lives:
  // the client drops frames it has seen, so a store that stopped listening could never catch up.
  const start = () => {
    started = true;
    client.onFrame((frame) => {
      if (isSessionFrame(frame)) {
        if (frame.sessionId === sessionId) publish(reduceChat(state, frame), error, frame.type === 'done' ? 'now' : 'later');
      } else if (frame.type === 'joined' && frame.sessionId === sessionId) {
        joined = true;
        const activeRunId = frame.activeRunId ?? (frame.gap || frame.seq <= state.lastSeq ? null : state.activeRunId);
        publish({ ...state, gap: state.gap || frame.gap, activeRunId }, error, 'no');
        if (frame.gap && options.loadHistory) {
          options
            .loadHistory(sessionId)
            .then((rows) => publish(mergeHistory(state, rows), error, 'now'))
            .catch(() => {}); // `gap` stays set: the UI can say older messages are missing
        }
      } else if (frame.type === 'error' && frame.sessionId === sessionId && !frame.ref && frame.code !== 'replay_gap') {
        fail(new SwitchboardError(frame.message, frame.code, frame));
      }
    });
    // The client may already be past this session's stored seq (another view of it is mounted
    // on the same client); joining from our own `lastSeq` then only re-syncs.
    // A join cut short by a closed socket is repeated by the client when it reconnects.
    client.join(sessionId, state.lastSeq).catch((e: unknown) => (e instanceof SwitchboardError && e.code === 'closed' ? undefined : fail(e)));
  };

  return {
    getSnapshot: () => snapshot,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    send(text, o) {
      let run: RunHandle;
      try {
        run = client.send({ sessionId, text, ifBusy: o?.ifBusy });
      } catch (e) {
        fail(e);
        return null;
      }
      inFlight.add(run);
      const ended = () => {
        inFlight.delete(run);
        publish(state, error, 'no', true);
      };
      run.done.then(ended, ended);
      publish(addPendingUser(state, run.id, text), null, 'no');
      run.runId.catch((e: unknown) => {
        publish(dropPendingUser(state, run.id), e instanceof SwitchboardError ? e : new SwitchboardError(String(e), 'internal'), 'no');
      });
      return run;
    },
    cancel() {
      const runId = state.activeRunId;
      if (runId) void client.cancel(sessionId, runId);
      // A send not yet acknowledged is cancelled once its run id is known.
      else for (const run of inFlight) run.cancel().catch(() => {});
    },
    retain() {
      if (refs++ === 0 && !started) start();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        if (--refs === 0) save();
      };
    },
  };
}
