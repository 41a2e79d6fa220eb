import { createLogger as createWinstonLogger, format, transports, type Logger } from 'winston';
import { redactFormat } from './redact';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** The lowest level written (`error`, `warn`, `info`, `debug`...). Default `'info'`. */
  level?: string;
  /**
   * `'json'` (default): one JSON object per line, with a `timestamp`. `'pretty'`: a colored,
   * human-readable line (`12:00:00.000 info request {...}`), for a terminal.
   */
  format?: 'json' | 'pretty';
  /** Writes nothing (tests). Default false. */
  silent?: boolean;
  /** Where lines go. Default: the process's stdout. */
  stream?: NodeJS.WritableStream;
}

/**
 * Creates the winston logger of the gateway and the CLI: JSON lines on stdout by default, with
 * every secret redacted before it is formatted.
 *
 * 1. Keys named like secrets, at any depth (`apiKey`, `api_key`, `x-api-key`, `authorization`,
 *    `password`...), are replaced by `[REDACTED]`.
 * 2. Values that look like API keys (`sk-...`, `AIza...`, `Bearer ...`) are masked wherever they
 *    appear, message included.
 * 3. Errors logged as metadata become `{ name, message }`.
 * 4. Nothing is global: every call makes a new logger, to inject where it is needed.
 *
 * ```ts
 * const logger = createLogger({ level: 'debug' });
 * logger.info('request', { requestId: 'req_1', headers: { authorization: 'Bearer sk-...' } });
 * // {"headers":{"authorization":"[REDACTED]"},"level":"info","message":"request","requestId":"req_1","timestamp":"..."}
 * ```
 *
 * @param options Level, format, silence and destination.
 * @return A winston logger.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level = 'info', format: style = 'json', silent = false, stream } = options;
  const output =
    style === 'pretty'
      ? format.combine(
          format.timestamp({ format: 'HH:mm:ss.SSS' }),
          format.colorize(),
          format.printf((info) => {
            const { timestamp, level: lvl, message, ...meta } = info;
            const rest = Object.keys(meta).length === 0 ? '' : ` ${JSON.stringify(meta)}`;
            return `${String(timestamp)} ${lvl} ${String(message)}${rest}`;
          }),
        )
      : format.combine(format.timestamp(), format.json());
  return createWinstonLogger({
    level,
    silent,
    format: format.combine(redactFormat(), output),
    transports: [
      // winston types its transports as interfaces extending the class, hence the disables.
      stream === undefined
        ? // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
          new transports.Console()
        : // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
          new transports.Stream({ stream }),
    ],
  });
}
