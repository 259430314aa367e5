/** Structured logs through pino: JSON lines on stderr, readable when stderr is a terminal. */
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** Creates the process logger; `SKYVOX_LOG_LEVEL` sets the level (default info). */
export function createLogger(options: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const level = options.level ?? process.env.SKYVOX_LOG_LEVEL ?? 'info';
  const wantPretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const stream = wantPretty
    ? pretty({ destination: 2, sync: true, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level, name: options.name ?? 'skyvox', base: { pid: process.pid } }, stream);
}

/** A logger that writes nothing, for library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
