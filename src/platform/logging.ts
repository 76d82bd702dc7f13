/**
 * The server's logger: JSON lines (for log collectors) unless stdout is a terminal, where a person
 * reads them, so pino-pretty prints them as one readable line each.
 */
import { type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(level: string, options: { tty?: boolean } = {}): Logger {
  const settings = { level, base: { service: 'shinrai' } };
  if (!(options.tty ?? process.stdout.isTTY === true)) return pino(settings);
  return pino(
    settings,
    pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true }),
  );
}
