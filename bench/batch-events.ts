/**
 * What a batch of the bench holds; the load generator sends it, and the raw baseline inserts the
 * same rows. Two orders of arrival:
 *  - 'scattered': events of the day before `now` in no order, as late data or a nightly export
 *    arrives: every batch touches every hour of the day, in the rollups and in the time index;
 *  - 'live': events that just happened, in the order they happened (the `size` milliseconds before
 *    `now`), as a live integration sends them.
 */
export type BatchOrder = 'scattered' | 'live';

export function batchEvents(
  n: number,
  size: number,
  programIds: readonly string[],
  now: number,
  tag: string | number = process.pid,
  order: BatchOrder = 'scattered',
) {
  return Array.from({ length: size }, (_, i) => {
    const kind = i % 10 < 6 ? 'RESOLUTION_TIME' : i % 10 < 9 ? 'SATISFACTION' : 'CONFLICT';
    const ago = order === 'live' ? size - i : (n * 7919 + i * 104_729) % 86_400_000;
    return {
      kind,
      programId: programIds[(n + i) % programIds.length],
      caseId: `B-${tag}-${n}-${i}`,
      value:
        kind === 'RESOLUTION_TIME'
          ? Math.exp(Math.log(3) + Math.sin(n * 7919 + i) * 1.5)
          : kind === 'SATISFACTION'
            ? 1 + ((n + i) % 5)
            : null,
      occurredAt: new Date(now - ago).toISOString(),
    };
  });
}
