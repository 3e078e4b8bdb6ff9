import { pino, type DestinationStream, type Logger } from 'pino';

import type { LogLevel } from './config.js';

export type { Logger } from 'pino';

/**
 * A JSON logger writing one object per line:
 * `{"level":"info","timestamp":"2024-01-01T00:00:00.000Z","message":"…",…}`.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    messageKey: 'message',
    errorKey: 'error',
    base: null,
    timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
    formatters: {
      level: (label: string) => ({ level: label }),
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
