/** The browser bundle of the client SDK (served by the gateway at `/client.js`). */
export { SwitchboardClient, SwitchboardError } from './client.js';
export { ErrorCode, CloseCode, WS_PATH } from './codes.js';
