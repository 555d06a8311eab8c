import type { Context } from '../context.js';
import { EVENT_KINDS } from '../kpis/registry.js';
import { canSeeOwned, visibleProgram } from '../programs/program-access.js';
import { builder } from '../schema/builder.js';
import { badInput, notFound } from '../schema/errors.js';
import type { EventRow } from './events.repository.js';
import { eventById } from './events.repository.js';
import { fieldError, parseAttributes, type Attribute } from './attributes.js';
import { MAX_BATCH, validateEvent, type EventInput, type ValidEvent } from './validate.js';

export const EventKindEnum = builder.enumType('EventKind', {
  values: EVENT_KINDS,
});

const instant = (value: number | null) => (value === null ? null : Number(value));

export const AttributeRef = builder.objectRef<Attribute>('Attribute').implement({
  fields: (t) => ({ key: t.exposeString('key'), value: t.exposeString('value') }),
});

export const AttributeInputType = builder.inputType('AttributeInput', {
  fields: (t) => ({ key: t.string({ required: true }), value: t.string({ required: true }) }),
});

export const MetricEventRef = builder.objectRef<EventRow>('MetricEvent').implement({
  authScopes: (event) => ({ program: event.program_id }),
  fields: (t) => ({
    id: t.id({ resolve: (e) => String(e.id) }),
    kind: t.field({ type: EventKindEnum, resolve: (e) => e.kind }),
    programId: t.id({ resolve: (e) => e.program_id }),
    caseId: t.exposeString('case_id'),
    value: t.float({
      nullable: true,
      description: 'Days for RESOLUTION_TIME, score for SATISFACTION, null for CONFLICT.',
      resolve: (e) => e.value,
    }),
    reason: t.exposeString('reason', { nullable: true }),
    occurredAt: t.field({ type: 'DateTime', resolve: (e) => Number(e.occurred_at) }),
    recordedAt: t.field({ type: 'DateTime', resolve: (e) => Number(e.recorded_at) }),
    retractedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'Set when an admin retracted the event; a retracted event counts in no KPI.',
      resolve: (e) => instant(e.retracted_at),
    }),
    idempotencyKey: t.exposeString('idempotency_key', { nullable: true }),
    attributes: t.field({
      type: [AttributeRef],
      description: 'The attributes the event was recorded with, in the order given.',
      resolve: (e) => parseAttributes(e.attributes),
    }),
  }),
});

const RecordPayload = builder.objectRef<{ event: EventRow; duplicate: boolean }>('RecordPayload').implement({
  fields: (t) => ({
    event: t.field({ type: MetricEventRef, resolve: (p) => p.event }),
    duplicate: t.exposeBoolean('duplicate', {
      description: 'True when the idempotency key was seen before with the same payload: nothing new was stored.',
    }),
  }),
});

const RecordEventsPayload = builder
  .objectRef<{ accepted: number; duplicates: number }>('RecordEventsPayload')
  .implement({
    fields: (t) => ({
      accepted: t.exposeInt('accepted'),
      duplicates: t.exposeInt('duplicates'),
    }),
  });

const RecordResolutionTimeInput = builder.inputType('RecordResolutionTimeInput', {
  fields: (t) => ({
    programId: t.id({ required: true }),
    caseId: t.string({ required: true }),
    days: t.float({ required: true }),
    occurredAt: t.field({ type: 'DateTime' }),
    idempotencyKey: t.string(),
    attributes: t.field({ type: [AttributeInputType] }),
  }),
});

const RecordSatisfactionInput = builder.inputType('RecordSatisfactionInput', {
  fields: (t) => ({
    programId: t.id({ required: true }),
    caseId: t.string({ required: true }),
    score: t.float({ required: true }),
    occurredAt: t.field({ type: 'DateTime' }),
    idempotencyKey: t.string(),
    attributes: t.field({ type: [AttributeInputType] }),
  }),
});

const RecordConflictInput = builder.inputType('RecordConflictInput', {
  fields: (t) => ({
    programId: t.id({ required: true }),
    caseId: t.string({ required: true }),
    reason: t.string(),
    occurredAt: t.field({ type: 'DateTime' }),
    idempotencyKey: t.string(),
    attributes: t.field({ type: [AttributeInputType] }),
  }),
});

const EventInputType = builder.inputType('EventInput', {
  fields: (t) => ({
    kind: t.field({ type: EventKindEnum, required: true }),
    programId: t.id({ required: true }),
    caseId: t.string({ required: true }),
    value: t.float(),
    reason: t.string(),
    occurredAt: t.field({ type: 'DateTime' }),
    idempotencyKey: t.string(),
    attributes: t.field({ type: [AttributeInputType] }),
  }),
});

/**
 * Checks that each attribute names a dimension of the event's program (`prefix`: `events[3].` in a
 * batch). Without a wait when every key is known already: a batch of 10,000 events holds 30,000.
 */
function checkAttributes(
  ctx: Context,
  event: ValidEvent,
  input: EventInput,
  prefix: string,
): Promise<void> | undefined {
  if (!input.attributes) return;
  const programs = ctx.services.recorder.programs;
  for (const { key } of input.attributes)
    if (!programs.knownDimension(event.programId, key)) return readAttributeKeys(ctx, event, input, prefix);
}

async function readAttributeKeys(ctx: Context, event: ValidEvent, input: EventInput, prefix: string): Promise<void> {
  for (const [i, { key }] of (input.attributes ?? []).entries()) {
    if (!(await ctx.services.recorder.programs.dimension(ctx.services.db, event.programId, key)))
      throw fieldError(`${prefix}attributes[${i}].key`, `"${key}" is not a dimension of program "${event.programId}"`);
  }
}

async function recordOne(ctx: Context, input: EventInput, valueField?: string) {
  const event = validateEvent({ ...input, programId: String(input.programId) }, ctx.services.now(), '', valueField);
  await visibleProgram(ctx, event.programId);
  await checkAttributes(ctx, event, input, '');
  const outcome = await ctx.services.recorder.record([event], { keyId: ctx.caller.keyId });
  return outcome.results[0];
}

builder.mutationFields((t) => ({
  recordResolutionTime: t.field({
    type: RecordPayload,
    args: { input: t.arg({ type: RecordResolutionTimeInput, required: true }) },
    authScopes: { record: true },
    resolve: (_, { input }, ctx) =>
      recordOne(
        ctx,
        { ...input, programId: String(input.programId), kind: 'RESOLUTION_TIME', value: input.days },
        'days',
      ),
  }),
  recordSatisfaction: t.field({
    type: RecordPayload,
    args: { input: t.arg({ type: RecordSatisfactionInput, required: true }) },
    authScopes: { record: true },
    resolve: (_, { input }, ctx) =>
      recordOne(
        ctx,
        { ...input, programId: String(input.programId), kind: 'SATISFACTION', value: input.score },
        'score',
      ),
  }),
  recordConflict: t.field({
    type: RecordPayload,
    args: { input: t.arg({ type: RecordConflictInput, required: true }) },
    authScopes: { record: true },
    resolve: (_, { input }, ctx) =>
      recordOne(ctx, { ...input, programId: String(input.programId), kind: 'CONFLICT', value: null }),
  }),
  recordEvents: t.field({
    type: RecordEventsPayload,
    description: `Records up to ${MAX_BATCH} events, all or nothing. Duplicates by idempotency key are counted, not stored.`,
    args: { events: t.arg({ type: [EventInputType], required: true }) },
    authScopes: { record: true },
    resolve: async (_, args, ctx) => {
      if (args.events.length > MAX_BATCH) throw badInput('events', `must hold at most ${MAX_BATCH} events`);
      const now = ctx.services.now();
      const events = args.events.map((input, i) =>
        validateEvent({ ...input, programId: String(input.programId) }, now, `events[${i}].`),
      );
      const checked = new Set<string>();
      for (const [i, event] of events.entries()) {
        if (checked.has(event.programId)) continue;
        await visibleProgram(ctx, event.programId, { field: `events[${i}].programId` });
        checked.add(event.programId);
      }
      for (const [i, event] of events.entries()) {
        const reading = checkAttributes(ctx, event, args.events[i], `events[${i}].`);
        if (reading !== undefined) await reading;
      }
      const { accepted, duplicates } = await ctx.services.recorder.record(events, {
        keyId: ctx.caller.keyId,
        indexed: true,
        returnEvents: false,
      });
      return { accepted, duplicates };
    },
  }),
  retractEvent: t.field({
    type: MetricEventRef,
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: (_, { id }, ctx) =>
      ctx.services.recorder.retract(parseEventId(String(id)), (programId) => canSeeOwned(ctx, programId)),
  }),
}));

builder.queryFields((t) => ({
  event: t.field({
    type: MetricEventRef,
    nullable: true,
    description: 'One recorded event, retracted or not.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { read: true },
    resolve: async (_, { id }, ctx) => {
      const event = await eventById(ctx.services.db, parseEventId(String(id)));
      return event && canSeeOwned(ctx, event.program_id) ? event : null;
    },
  }),
}));

function parseEventId(id: string): number {
  const n = Number(id);
  if (!/^\d{1,15}$/.test(id) || !Number.isSafeInteger(n)) throw notFound('event', id);
  return n;
}
