/**
 * Stand-ins for hub tests: a socket that records what the hub sends it, and seq reservations
 * kept in memory (the durable store's part in numbering a recreated log).
 */
import type { ServerFrame } from '@switchboard/protocol';
import type { SeqReservations } from '../../src/ports.js';
import type { HubSocket } from '../../src/sessions/hub.js';

/** Records every frame the hub sends it, decoded, as a client following the session receives them. */
export class RecordingSocket implements HubSocket {
  closed = false;
  frames: ServerFrame[] = [];
  send(json: string) {
    this.frames.push(JSON.parse(json) as ServerFrame);
    return 'ok' as const;
  }
  bufferedAmount() {
    return 0;
  }
  subscribe() {}
  unsubscribe() {}
}

/** Seq reservations in blocks of 100, never below what was asked or reserved before. */
export function memoryReservations(): SeqReservations {
  let reserved = 0;
  return {
    async reserve(_id, atLeast) {
      const floor = reserved;
      reserved = Math.max(reserved, atLeast) + 100;
      return { floor, ceiling: reserved };
    },
  };
}
