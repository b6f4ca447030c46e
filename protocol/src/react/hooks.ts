import { createContext, createElement, useCallback, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { SwitchboardClient, type ClientOptions, type ConnectionState } from '../client.js';
import type { SwitchboardError } from '../errors.js';
import type { ReadyFrame, SendFrame } from '../frames.js';
import type { RunHandle } from '../run-stream.js';
import { getChatStore, type ChatSnapshot, type ChatStoreOptions } from '../chat-store.js';

const ClientContext = createContext<SwitchboardClient | null>(null);

/**
 * Makes a client available to `useChatSession` below it.
 * @example
 * <SwitchboardProvider client={client}><Chat sessionId={id} /></SwitchboardProvider>
 */
export function SwitchboardProvider(props: { client: SwitchboardClient; children?: ReactNode }): ReactNode {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

/** What {@link useSwitchboard} returns. */
export interface SwitchboardHook {
  client: SwitchboardClient;
  /** `connecting`, `connected`, `reconnecting` or `disconnected`. */
  state: ConnectionState;
  /** Why the connection last dropped or failed (kept until it is `connected` again). */
  error: SwitchboardError | null;
  /** The last `ready` frame (limits, user id). */
  ready: ReadyFrame | null;
}

function useConnection(client: SwitchboardClient): Omit<SwitchboardHook, 'client'> {
  const [error, setError] = useState<SwitchboardError | null>(null);
  const subscribe = useCallback(
    (notify: () => void) =>
      client.on('state', (s, detail) => {
        setError(s === 'connected' ? null : (detail.error ?? null));
        notify();
      }),
    [client],
  );
  const state = useSyncExternalStore(subscribe, () => client.state, () => client.state);
  return { state, error: state === 'connected' ? null : error, ready: client.ready };
}

/**
 * A connected client and its connection state. Pass options to create (and connect, and on
 * unmount close) a client, or an existing client to follow its state.
 * @example
 * const { client, state } = useSwitchboard({ url: 'ws://localhost:8080/v1/ws', token: auth.getAccessToken });
 */
export function useSwitchboard(clientOrOptions: SwitchboardClient | ClientOptions): SwitchboardHook {
  const given = clientOrOptions instanceof SwitchboardClient ? clientOrOptions : null;
  const [owned] = useState(() => (given ? null : new SwitchboardClient(clientOrOptions as ClientOptions)));
  const client = given ?? owned!;
  // Subscribed before the effect below connects (effects run in order, cleanups too): the
  // `connecting` of that connect is seen, and the close of a remount (React's StrictMode runs
  // effects twice in development) is not reported as an error.
  const connection = useConnection(client);
  useEffect(() => {
    if (!owned) return;
    owned.connect().catch(() => {}); // failures surface as `state` and `error`
    return () => owned.close();
  }, [owned]);
  // An owned client is about to connect: not yet connected is `connecting`, not `disconnected`
  // (a fatal `disconnected` always comes with its error).
  const state = owned && connection.state === 'disconnected' && !connection.error ? 'connecting' : connection.state;
  return { client, ...connection, state };
}

/** What {@link useChatSession} returns. */
export interface ChatSessionHook extends ChatSnapshot {
  /** Sends a message; returns the run, or `null` when it was refused before sending (see `error`). */
  send(text: string, options?: { ifBusy?: SendFrame['ifBusy'] }): RunHandle | null;
  /** Cancels the streaming run, wherever it was started. */
  cancel(): void;
  /** True when a message can be sent now: connected, joined, no run streaming, and no send of this store waiting for its run to end (false from the `send` call on, before the server echoed it). */
  canSend: boolean;
  /** The client's connection state. */
  connection: ConnectionState;
}

/**
 * One session as a chat UI needs it: messages (user turns, answers with their tool calls and
 * errors), the streaming text, status, `send` and `cancel`. The transcript and its `lastSeq` are
 * stored, so a reloaded page shows what it had and continues a streaming answer without loss or
 * duplicates; every tab on the session sees the same frames.
 * @example
 * const chat = useChatSession(sessionId, { client });
 * return <>{chat.messages.map((m) => <p key={m.id}>{m.text}</p>)}<button disabled={!chat.canSend} onClick={() => chat.send(text)}>Send</button></>;
 */
export function useChatSession(sessionId: string, options: ChatStoreOptions & { client?: SwitchboardClient } = {}): ChatSessionHook {
  const fromContext = useContext(ClientContext);
  const client = options.client ?? fromContext;
  if (!client) throw new Error('useChatSession needs a client: pass options.client or render inside <SwitchboardProvider>');
  const store = getChatStore(client, sessionId, options);
  useEffect(() => store.retain(), [store]);
  const snapshot = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  const { state } = useConnection(client);
  return {
    ...snapshot,
    send: store.send,
    cancel: store.cancel,
    canSend: state === 'connected' && snapshot.joined && snapshot.status !== 'streaming' && !snapshot.sending,
    connection: state,
  };
}
