/**
 * A hub socket for tests: records every frame the hub sends it, decoded, as a client following
 * the session would receive them.
 */
import type { ServerFrame } from '@switchboard/protocol';
import type { HubSocket } from '../../src/sessions/hub.js';

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
