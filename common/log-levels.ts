// The levels `--log-level` takes for pino-logging commands, apart from pino so flag tables can name them
// without loading it (the sidecar's command shares those tables and loads built-ins only).

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
