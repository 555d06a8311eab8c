/**
 * Structured JSON logs (pino), one line per event, each HTTP request's line carrying its request
 * id: the caller's `x-request-id` when it sent a sane one, else a fresh UUID, echoed back in the
 * answer so a client's report can be matched with the server's line.
 */
import { randomUUID } from 'node:crypto';
import type { YogaLogger } from 'graphql-yoga';
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'kpi-monitoring-service' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Keys must never reach a log, wherever a header object is logged.
    redact: ['headers.authorization', 'req.headers.authorization', 'connectionParams.authorization'],
  });
}

/** A caller's id is kept if it is short and plain (so it cannot forge log lines); else a UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[\w.:-]{1,128}$/.test(value) ? value : randomUUID();
}

/** Yoga's own messages (masked errors in full, warnings) through the same JSON log. */
export function yogaLogger(log: Logger): YogaLogger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      const [first, ...rest] = args;
      if (first instanceof Error) log[level]({ err: first }, first.message);
      else if (typeof first === 'string') log[level](rest.length ? { details: rest } : {}, first);
      else log[level]({ details: args }, 'graphql-yoga');
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
