/**
 * What a batch of the bench holds; the load generator sends it, and the raw baseline inserts the
 * same rows. Two orders of arrival:
 *  - 'scattered': events of the day before `now` in no order, as late data or a nightly export
 *    arrives: every batch touches every hour of the day, in the rollups and in the time index;
 *  - 'live': events that just happened, in the order they happened (the `size` milliseconds before
 *    `now`), as a live integration sends them.
 */
export type BatchOrder = 'scattered' | 'live';

/** Office (50), channel (5) and case type (20) of event `i` of batch `n`, as bench/dimensions.ts names them. */
function attributesOf(n: number, i: number) {
  const pad = (k: number) => String(k + 1).padStart(2, '0');
  const h = (n * 7919 + i * 104_729) >>> 0;
  return [
    { key: 'office', value: `office-${pad(h % 50)}` },
    { key: 'channel', value: ['web', 'phone', 'mail', 'in person', 'chat'][(h >>> 6) % 5] },
    { key: 'case_type', value: `type-${pad((h >>> 9) % 20)}` },
  ];
}

export function batchEvents(
  n: number,
  size: number,
  programIds: readonly string[],
  now: number,
  tag: string | number = process.pid,
  order: BatchOrder = 'scattered',
  /** Each event carries office, channel and case type (the programs must declare them). */
  withAttributes = false,
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
      ...(withAttributes ? { attributes: attributesOf(n, i) } : {}),
    };
  });
}
