// Flags several commands share, declared once.

import { LOG_LEVELS, type LogLevel } from '../common/log.ts';
import { flag, types } from './flags.ts';

export const logLevelFlag = (defaultLevel: LogLevel, help = `pino level: ${LOG_LEVELS.join(', ')}`) =>
  flag(types.oneOf(LOG_LEVELS), { env: 'PODID_LOG_LEVEL', default: defaultLevel, help });

export const kubeconfigFlag = (help: string) => flag(types.optionalString, { env: 'KUBECONFIG', help });
