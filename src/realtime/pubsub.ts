/** The change notices and events that travel between the write path and live subscribers. */
import { createPubSub } from 'graphql-yoga';
import type { Alert } from '../alerts/alerts.repository.js';

/** A write touched `programId` between `from` (inclusive) and `to` (exclusive), in occurredAt. */
export interface ChangeNotice {
  programId: string;
  from: number;
  to: number;
}

export type PubSubChannels = {
  changes: [ChangeNotice];
  keyRevoked: [string];
  /** An alert after a transition or an acknowledgement (a plain row, so it can travel as JSON). */
  alertChanged: [Alert];
};

export function createEventBus() {
  return createPubSub<PubSubChannels>();
}

export type EventBus = ReturnType<typeof createEventBus>;
