// Flags several commands share, declared once.

import { LOG_LEVELS, type LogLevel } from '../common/log-levels.ts';
import { defaultServerLimits, type ServerLimits } from '../common/serve.ts';
import { flag, types } from './flags.ts';

export const logLevelFlag = (defaultLevel: LogLevel, help = `log level: ${LOG_LEVELS.join(', ')}`) =>
  flag(types.oneOf(LOG_LEVELS), { env: 'PODID_LOG_LEVEL', default: defaultLevel, help });

export const kubeconfigFlag = (help: string) => flag(types.optionalString, { env: 'KUBECONFIG', help });

/** A server's connection cap and idle timeout (`--max-connections`, `--idle-timeout`). */
export const connectionFlags = (defaultMax: number) => ({
  'max-connections': flag(types.int(1), {
    env: 'PODID_MAX_CONNECTIONS',
    default: String(defaultMax),
    help: 'open connections at most; more are closed as they arrive',
  }),
  'idle-timeout': flag(types.duration, { env: 'PODID_IDLE_TIMEOUT', default: '30s', help: 'close a connection idle this long (keep-alive or never used)' }),
});

/** ServerLimits from the connection flags, the other limits at their defaults. */
export const limitsFrom = (v: { 'max-connections': number; 'idle-timeout': number }): ServerLimits => ({
  ...defaultServerLimits,
  maxConnections: v['max-connections'],
  idleTimeoutMs: v['idle-timeout'],
});
