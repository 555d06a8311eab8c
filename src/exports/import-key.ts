/**
 * The idempotency key an imported row gets when it names none, so that posting the same file again
 * stores nothing new: `import:` and the SHA-256 (base64url) of the JSON array
 * `[programId, kind, caseId, value, occurredAt, attributes]`, where `value` is the number or null,
 * `occurredAt` epoch milliseconds (null when the row gives none) and `attributes` the `[key, value]`
 * pairs sorted by key. The same event written another way (`4.50` or `4.5`, `…T12:00Z` or
 * `…T12:00:00.000Z`, attribute columns in another order) gets the same key. `reason` is not part of
 * it: a row that changes only the reason of an imported event is a CONFLICT.
 */
import { hash } from 'node:crypto';
import { sortedAttributes } from '../events/attributes.js';
import type { ValidEvent } from '../events/validate.js';

export const DERIVED_KEY_PREFIX = 'import:';

export function derivedIdempotencyKey(event: ValidEvent): string {
  const payload = [
    event.programId,
    event.kind,
    event.caseId,
    event.value,
    event.occurredAtGiven ? event.occurredAt : null,
    event.attributes ? sortedAttributes(event.attributes) : [],
  ];
  // crypto.hash, one call: a third of createHash().update().digest()'s time a row (0.4-0.5 µs against 1.4).
  return DERIVED_KEY_PREFIX + hash('sha256', JSON.stringify(payload), 'base64url');
}
