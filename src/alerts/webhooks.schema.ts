/** Webhook endpoints and their deliveries: admins only. */
import { randomUUID } from 'node:crypto';
import { assertManages } from '../auth/caller.js';
import type { Context } from '../context.js';
import { visibleOwned, visibleProgram } from '../programs/program-access.js';
import { builder } from '../schema/builder.js';
import { badInput, notFound } from '../schema/errors.js';
import { checkLimit, noSuchProgram, SeverityEnum } from './alerts.schema.js';
import { refusedHost, shownUrl, type AddressRule } from './webhook-address.js';
import {
  attemptsOf,
  DELIVERY_STATES,
  insertWebhook,
  listDeliveries,
  listWebhooks,
  softDeleteWebhook,
  webhooksByIds,
  type DeliveryAttempt,
  type Notification,
  type Webhook,
} from './webhooks.repository.js';

const DeliveryStateEnum = builder.enumType('DeliveryState', { values: DELIVERY_STATES });

const WebhookRef = builder.objectRef<Webhook>('Webhook').implement({
  description: 'An endpoint that receives signed alert notifications. Its secret is never shown again.',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.string({ resolve: (webhook) => shownUrl(webhook.url) }),
    programId: t.exposeID('program_id', { nullable: true, description: 'Null: alerts of every program.' }),
    minSeverity: t.field({ type: SeverityEnum, resolve: (w) => w.min_severity }),
    createdAt: t.field({ type: 'DateTime', resolve: (w) => w.created_at }),
    deletedAt: t.field({ type: 'DateTime', nullable: true, resolve: (w) => w.deleted_at }),
  }),
});

const DeliveryAttemptRef = builder.objectRef<DeliveryAttempt>('DeliveryAttempt').implement({
  fields: (t) => ({
    attempt: t.exposeInt('attempt'),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    statusCode: t.exposeInt('status_code', {
      nullable: true,
      description: "The receiver's HTTP status; null when none came.",
    }),
    error: t.exposeString('error', { nullable: true }),
    durationMs: t.exposeInt('duration_ms'),
  }),
});

const WebhookDeliveryRef = builder.objectRef<Notification>('WebhookDelivery').implement({
  description: 'One notification to one webhook, with every attempt to deliver it.',
  fields: (t) => ({
    id: t.exposeID('id'),
    eventId: t.exposeID('event_id', { description: 'The same for every retry: receivers dedupe on it.' }),
    webhook: t.loadable({
      type: WebhookRef,
      load: async (ids: string[], ctx: Context) => {
        const found = new Map((await webhooksByIds(ctx.services.db, ids)).map((w) => [w.id, w]));
        return ids.map((id) => found.get(id) ?? new Error(`webhook ${id} is missing`));
      },
      resolve: (d) => d.webhook_id,
    }),
    alertId: t.exposeID('alert_id'),
    state: t.field({ type: DeliveryStateEnum, resolve: (d) => d.state }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (d) => (d.state === 'PENDING' ? d.next_attempt_at : null),
    }),
    lastError: t.exposeString('last_error', { nullable: true }),
    body: t.exposeString('body', { description: 'The JSON sent.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.created_at }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, resolve: (d) => d.delivered_at }),
    attemptLog: t.loadableGroup({
      type: DeliveryAttemptRef,
      load: (ids: string[], ctx: Context) => attemptsOf(ctx.services.db, ids),
      group: (a) => a.notification_id,
      resolve: (d) => d.id,
    }),
  }),
});

const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: (t) => ({
    url: t.string({ required: true, description: 'http or https.' }),
    secret: t.string({ required: true, description: '16 to 512 characters; signs every request (HMAC-SHA256).' }),
    programId: t.id({ required: false, description: 'Only alerts of this program; null: every program.' }),
    minSeverity: t.field({ type: SeverityEnum, required: false, defaultValue: 'INFO' }),
  }),
});

/** The URL as stored, or BAD_USER_INPUT naming `url` and the rule (webhook-address.ts says which addresses). */
async function checkUrl(raw: string, rule: AddressRule): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw badInput('url', 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw badInput('url', `must use http or https (got "${url.protocol}")`);
  // Never quoted back: the message names the rule, not what was given.
  if (url.username || url.password)
    throw badInput('url', 'must not hold credentials (user:password@): the signing secret authenticates each request');
  if (url.href.length > 2048) throw badInput('url', 'must be at most 2048 characters');
  const refusal = await refusedHost(url, rule);
  if (refusal)
    throw badInput(
      'url',
      `must point to a public address: its host is ${refusal} (loopback, private, link-local, metadata, multicast and unspecified addresses are refused${rule.allowLoopback ? '' : '; WEBHOOK_ALLOW_LOOPBACK=true allows loopback'})`,
    );
  return url.href;
}

builder.queryFields((t) => ({
  webhooks: t.field({
    type: [WebhookRef],
    authScopes: { admin: true },
    resolve: (_, __, ctx) => listWebhooks(ctx.services.db, ctx.caller.programIds),
  }),
  webhookDeliveries: t.field({
    type: [WebhookDeliveryRef],
    description: 'Notifications and their attempts, newest first: failed ones show here.',
    args: {
      webhookId: t.arg.id({ required: false }),
      states: t.arg({ type: [DeliveryStateEnum], required: false }),
      limit: t.arg.int({ required: false, defaultValue: 100, description: '1 to 1000.' }),
    },
    authScopes: { admin: true },
    resolve: async (_, args, ctx) => {
      const limit = checkLimit(args.limit);
      // Deliveries carry alert bodies: only a key for every program reads them all.
      assertManages(ctx.caller, null);
      return listDeliveries(ctx.services.db, {
        webhookId: args.webhookId == null ? null : String(args.webhookId),
        states: args.states ?? null,
        limit,
      });
    },
  }),
}));

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: WebhookRef,
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { input }, ctx) => {
      const programId = input.programId == null ? null : String(input.programId);
      assertManages(ctx.caller, programId);
      const url = await checkUrl(input.url, { allowLoopback: ctx.services.config.webhookAllowLoopback });
      if (input.secret.length < 16 || input.secret.length > 512)
        throw badInput('secret', 'must be 16 to 512 characters');
      if (programId !== null) await visibleProgram(ctx, programId, { missing: noSuchProgram });
      return insertWebhook(ctx.services.db, {
        id: randomUUID(),
        url,
        secret: input.secret,
        program_id: programId,
        min_severity: input.minSeverity ?? 'INFO',
        created_at: ctx.services.now(),
        deleted_at: null,
      });
    },
  }),
  deleteWebhook: t.field({
    type: 'Boolean',
    description: 'Stops all delivery to the endpoint; its pending deliveries end as FAILED.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id }, ctx) => {
      const [stored] = await webhooksByIds(ctx.services.db, [String(id)]);
      const webhook = visibleOwned(
        ctx,
        'webhook',
        String(id),
        stored?.deleted_at === null ? stored : null,
        (found) => found.program_id,
        { manage: true },
      );
      if (!(await softDeleteWebhook(ctx.services.db, webhook.id, ctx.services.now())))
        throw notFound('webhook', webhook.id);
      return true;
    },
  }),
}));
