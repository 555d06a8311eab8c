/** Wires the alert path together: the engine judges, the writer stores and publishes, the notifier delivers. */
import type { Config } from '../config.js';
import type { Db } from '../db/types.js';
import type { Logger } from '../metrics/logger.js';
import type { EventBus } from '../realtime/pubsub.js';
import { AlertWriter } from './alerts.service.js';
import { AlertEngine } from './engine.js';
import { Notifier } from './notify.js';

export interface Alerting {
  engine: AlertEngine;
  writer: AlertWriter;
  notifier: Notifier;
  start(): void;
  stop(): Promise<void>;
  /** Resolves once no evaluation is due and no delivery is in flight. */
  idle(): Promise<void>;
}

export function createAlerting(db: Db, bus: EventBus, now: () => number, config: Config, log: Logger): Alerting {
  const notifier = new Notifier(db, log, {
    timeoutMs: config.webhookTimeoutMs,
    maxAttempts: config.webhookMaxAttempts,
    backoffMs: config.webhookBackoffMs,
    backoffCapMs: config.webhookBackoffCapMs,
    addresses: { allowLoopback: config.webhookAllowLoopback },
  });
  const writer = new AlertWriter(db, bus, notifier);
  const engine = new AlertEngine(db, bus, writer, now, log, {
    intervalMs: config.alertIntervalMs,
    debounceMs: config.alertDebounceMs,
  });
  return {
    engine,
    writer,
    notifier,
    start() {
      engine.start();
      notifier.start();
    },
    async stop() {
      await engine.stop();
      await notifier.stop();
    },
    async idle() {
      await engine.idle();
      await notifier.idle();
    },
  };
}
