/** Who did what: the audit log of admin actions, and the key behind each recorded event. Admins only. */
import { assertEveryProgram, BOOTSTRAP_ACTOR } from '../auth/caller.js';
import { MetricEventRef } from '../events/events.schema.js';
import { builder } from '../schema/builder.js';
import { checkLimit } from '../alerts/alerts.schema.js';
import { listAuditEntries, type AuditEntry } from './audit.repository.js';

const AuditEntryRef = builder.objectRef<AuditEntry>('AuditEntry').implement({
  description: 'One successful admin action.',
  fields: (t) => ({
    id: t.exposeID('id'),
    at: t.field({ type: 'DateTime', resolve: (entry) => Number(entry.at) }),
    actor: t.exposeString('actor', {
      description: `The id of the API key that acted, or "${BOOTSTRAP_ACTOR}" for the bootstrap key.`,
    }),
    action: t.exposeString('action', { description: 'The mutation, e.g. revokeApiKey.' }),
    targetId: t.exposeID('target_id', { nullable: true, description: 'The id acted on, or of what the action made.' }),
    details: t.exposeString('details', { description: 'The arguments as JSON; secrets are replaced by "[redacted]".' }),
  }),
});

builder.queryFields((t) => ({
  auditLog: t.field({
    type: [AuditEntryRef],
    description:
      'Admin actions (keys, programs, rules, targets, webhooks, retractions, acknowledgements), newest first.',
    args: {
      limit: t.arg.int({ required: false, defaultValue: 100, description: '1 to 1000.' }),
      action: t.arg.string({ required: false, description: 'Only this mutation, e.g. revokeApiKey.' }),
      actor: t.arg.string({ required: false, description: `Only this API key id (or "${BOOTSTRAP_ACTOR}").` }),
      before: t.arg({
        type: 'DateTime',
        required: false,
        description: 'Only entries before this instant: to page back.',
      }),
    },
    authScopes: { admin: true },
    resolve: (_, args, ctx) => {
      // Entries name every program's things: only a key for every program reads them.
      assertEveryProgram(ctx.caller);
      const limit = checkLimit(args.limit);
      return listAuditEntries(ctx.services.db, {
        limit,
        action: args.action ?? null,
        actor: args.actor ?? null,
        before: args.before ?? null,
      });
    },
  }),
}));

builder.objectField(MetricEventRef, 'recordedBy', (t) =>
  t.string({
    nullable: true,
    description: `The id of the API key that recorded the event, or "${BOOTSTRAP_ACTOR}" for the bootstrap key. Admins only.`,
    authScopes: { admin: true },
    resolve: (event) => event.api_key_id ?? BOOTSTRAP_ACTOR,
  }),
);
