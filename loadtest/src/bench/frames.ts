/** The token-sized frame every bench peer streams, shaped like the gateway's `token` frame. */
const SESSION = '3f0c2a9e-5b1d-4c62-9a8e-1d2b3c4d5e6f';
const RUN = '9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const WORDS = [' the', ' agent', ' streams', ' tokens', ' over', ' a', ' socket'];

/** The frame with sequence number `seq` (as an object). */
export function tokenFrame(seq: number): { type: 'token'; sessionId: string; runId: string; seq: number; text: string } {
  return { type: 'token', sessionId: SESSION, runId: RUN, seq, text: WORDS[seq % WORDS.length]! };
}

/** Peers the bench compares. */
export type PeerKind = 'uws-bare' | 'gateway-uws' | 'gateway-ws' | 'ws-bare' | 'socketio';

/** Control messages between the bench and a bare peer server. */
export type PeerCommand = { type: 'stream'; frames: number };
export type PeerReport =
  | { type: 'listening'; port: number; inspector?: string }
  | { type: 'unavailable'; reason: string }
  | { type: 'streamed'; frames: number; subscribers: number; ms: number };
