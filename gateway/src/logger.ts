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

/**
 * A logger whose every line carries `context`'s ids (a line's own fields win). Handed on
 * explicitly rather than kept in an AsyncLocalStorage: that one installs promise hooks, which
 * cost every promise of the process, per token.
 * @example
 * const runLog = withLogContext(logger, { sessionId, runId });
 * runLog.info('run started'); // {"level":"info","message":"run started","runId":…,"sessionId":…}
 */
export function withLogContext(logger: Logger, context: LogContext): Logger {
  const fields: Record<string, string> = {};
  for (const [key, value] of Object.entries(context)) if (value !== undefined) fields[key] = value;
  return logger.child(fields);
}

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
