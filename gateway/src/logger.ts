import { AsyncLocalStorage } from 'node:async_hooks';
import winston from 'winston';

/** Ids that every log line within a request, connection or run carries. */
export interface LogContext {
  requestId?: string;
  connectionId?: string;
  userId?: string;
  sessionId?: string;
  runId?: string;
  traceId?: string;
}

const contextStore = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with extra ids merged into the log context. */
export function withLogContext<T>(extra: LogContext, fn: () => T): T {
  return contextStore.run({ ...contextStore.getStore(), ...extra }, fn);
}

const addContext = winston.format((info) => {
  const ctx = contextStore.getStore();
  if (ctx) for (const [k, v] of Object.entries(ctx)) if (v !== undefined && info[k] === undefined) info[k] = v;
  return info;
});

/** Keys whose values never reach the log at any level. */
const SECRET_KEYS = /^(password|passwordHash|token|accessToken|refreshToken|resume|resumeToken|authorization|secret|apiKey|text)$/i;

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) if (SECRET_KEYS.test(key)) info[key] = '[redacted]';
  return info;
});

export type Logger = winston.Logger;

/** Creates the process logger: JSON in production, pretty in development. */
export function createLogger(options: { level: string; format?: 'json' | 'pretty'; env: string; silent?: boolean }): Logger {
  const pretty = (options.format ?? (options.env === 'production' ? 'json' : 'pretty')) === 'pretty';
  return winston.createLogger({
    level: options.level,
    silent: options.silent,
    format: winston.format.combine(
      addContext(),
      redact(),
      winston.format.timestamp(),
      pretty
        ? winston.format.combine(
            winston.format.colorize(),
            winston.format.printf(({ level, message, timestamp, ...rest }) => {
              const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
              return `${String(timestamp)} ${level} ${String(message)}${extra}`;
            }),
          )
        : winston.format.json(),
    ),
    transports: [new winston.transports.Console()],
  });
}
