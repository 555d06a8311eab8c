/**
 * The EventInputs of batch number `n`: events of the day before `now`, in no order, as an integration
 * would send them. The load generator sends them, and the raw baseline inserts the same rows.
 */
export function batchEvents(n: number, size: number, programIds: readonly string[], now: number, tag: string | number = process.pid) {
  return Array.from({ length: size }, (_, i) => {
    const kind = i % 10 < 6 ? 'RESOLUTION_TIME' : i % 10 < 9 ? 'SATISFACTION' : 'CONFLICT';
    return {
      kind,
      programId: programIds[(n + i) % programIds.length],
      caseId: `B-${tag}-${n}-${i}`,
      value: kind === 'RESOLUTION_TIME' ? Math.exp(Math.log(3) + Math.sin(n * 7919 + i) * 1.5) : kind === 'SATISFACTION' ? 1 + ((n + i) % 5) : null,
      occurredAt: new Date(now - ((n * 7919 + i * 104_729) % 86_400_000)).toISOString(),
    };
  });
}
