/** The change notices and events that travel between the write path and live subscribers. */
import { createPubSub } from 'graphql-yoga';

/** A write touched `programId` between `from` (inclusive) and `to` (exclusive), in occurredAt. */
export interface ChangeNotice {
  programId: string;
  from: number;
  to: number;
}

export type PubSubChannels = {
  changes: [ChangeNotice];
  keyRevoked: [string];
};

export function createEventBus() {
  return createPubSub<PubSubChannels>();
}

export type EventBus = ReturnType<typeof createEventBus>;
