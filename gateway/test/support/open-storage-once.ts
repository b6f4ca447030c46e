/**
 * A process that opens server storage on `argv[2]` (migrating it), prints `opened`, and exits:
 * the migration-lock test starts several at once on one fresh database.
 */
import { openStorage } from '../../src/backends/postgres/index.js';

const url = process.argv[2];
if (!url) throw new Error('usage: open-storage-once <database url>');
const logger = { info: (m: string) => console.log(m), warn: (m: string) => console.log(m), error: (m: string) => console.error(m) };
const storage = await openStorage({ databaseUrl: url, logger });
await storage.ping();
await storage.close();
console.log('opened');
