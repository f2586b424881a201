// The levels `--log-level` takes, most severe first, for every podid command (common/log.ts writes the lines).

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
