/** Annotations and impact: createAnnotation, deleteAnnotation, Dashboard.annotations, impact. */
import type { Context } from '../context.js';
import { DashboardRef } from '../dashboards/dashboard.schema.js';
import { MAX_FUTURE } from '../events/validate.js';
import { KpiEnum } from '../kpis/kpi.schema.js';
import { visibleOwned, visibleProgram } from '../programs/program-access.js';
import { builder } from '../schema/builder.js';
import { badInput, notFound } from '../schema/errors.js';
import { AttributeFilterInput } from '../scope/filter.schema.js';
import {
  type Annotation,
  annotationById,
  annotationsInRange,
  deleteAnnotationById,
  insertAnnotation,
} from './annotations.repository.js';
import { checkDays, computeImpact, type Impact, type ImpactRow } from './impact.js';

export const MAX_TITLE = 200;
export const MAX_DESCRIPTION = 2_000;

const AnnotationRef = builder.objectRef<Annotation>('Annotation').implement({
  description: 'A change marked in a program at an instant (a new form, a staffing change, a policy).',
  authScopes: (annotation) => ({ program: annotation.program_id }),
  fields: (t) => ({
    id: t.exposeID('id'),
    programId: t.id({ resolve: (a) => a.program_id }),
    at: t.field({ type: 'DateTime', resolve: (a) => a.at }),
    title: t.exposeString('title'),
    description: t.exposeString('description', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.created_at }),
  }),
});

const ImpactRowRef = builder.objectRef<ImpactRow>('ImpactRow').implement({
  fields: (t) => ({
    kpi: t.field({ type: KpiEnum, resolve: (r) => r.kpi }),
    before: t.exposeFloat('before', { nullable: true }),
    after: t.exposeFloat('after', { nullable: true }),
    change: t.exposeFloat('change', { nullable: true, description: 'after - before; null when either is null.' }),
    low: t.exposeFloat('low', {
      nullable: true,
      description:
        '95% confidence interval of the change, for averages and percentages; null for counts and percentiles.',
    }),
    high: t.exposeFloat('high', { nullable: true }),
    significant: t.exposeBoolean('significant', {
      nullable: true,
      description: 'True when the interval excludes 0.',
    }),
  }),
});

const ImpactRef = builder.objectRef<Impact>('Impact').implement({
  fields: (t) => ({
    annotation: t.field({ type: AnnotationRef, resolve: (i) => i.annotation }),
    beforeFrom: t.field({
      type: 'DateTime',
      description: 'Start of the before side, [beforeFrom, annotation.at).',
      resolve: (i) => i.before.start,
    }),
    afterTo: t.field({
      type: 'DateTime',
      description:
        'End (exclusive) of the after side, [annotation.at, afterTo): at + days, or now when sooner (annotation.at when it is still ahead).',
      resolve: (i) => i.after.end,
    }),
    rows: t.field({
      type: [ImpactRowRef],
      description: "One row per Kpi, in the enum's order.",
      resolve: (i) => i.rows,
    }),
  }),
});

const CreateAnnotationInput = builder.inputType('CreateAnnotationInput', {
  fields: (t) => ({
    programId: t.id({ required: true }),
    at: t.field({ type: 'DateTime', required: true }),
    title: t.string({ required: true }),
    description: t.string({ required: false }),
  }),
});

/** Characters as a reader counts them (code points), so a title of 200 emoji is 200. */
const characters = (text: string) => [...text].length;

function checkAnnotation(input: { at: number; title: string; description?: string | null }, now: number) {
  if (input.at > now + MAX_FUTURE) throw badInput('at', 'must be at most 5 minutes in the future');
  const title = characters(input.title);
  if (title < 1 || title > MAX_TITLE || input.title.trim() === '')
    throw badInput('title', `must be 1 to ${MAX_TITLE} characters, not all blank (got ${title})`);
  if (input.description != null && characters(input.description) > MAX_DESCRIPTION)
    throw badInput('description', `must be at most ${MAX_DESCRIPTION} characters`);
}

/** The annotation `id`, if the caller may see it; NOT_FOUND otherwise, as for an unknown id. */
async function visibleAnnotation(ctx: Context, id: string): Promise<Annotation> {
  return visibleOwned(ctx, 'annotation', id, await annotationById(ctx.services.db, id), (a) => a.program_id);
}

/** Dashboards showing the annotation's instant are pushed again (the live feed takes any change notice). */
function announce(ctx: Context, annotation: Annotation) {
  ctx.services.pubsub.publish('changes', {
    programId: annotation.program_id,
    from: annotation.at,
    to: annotation.at + 1,
  });
}

builder.mutationFields((t) => ({
  createAnnotation: t.field({
    type: AnnotationRef,
    description:
      'Marks a change in a program at `at` (up to 5 minutes ahead); `title` 1 to 200 characters, `description` up to 2,000.',
    args: { input: t.arg({ type: CreateAnnotationInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { input }, ctx) => {
      const program = await visibleProgram(ctx, String(input.programId));
      const now = ctx.services.now();
      checkAnnotation(input, now);
      const annotation = await insertAnnotation(
        ctx.services.db,
        { programId: program.id, at: input.at, title: input.title, description: input.description ?? null },
        now,
      );
      announce(ctx, annotation);
      return annotation;
    },
  }),
  deleteAnnotation: t.field({
    type: 'Boolean',
    description: 'Removes an annotation; NOT_FOUND when it is unknown, deleted, or of a program the key may not see.',
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id }, ctx) => {
      const annotation = await visibleAnnotation(ctx, String(id));
      // Deleted meanwhile by another request: gone either way, and said so as for an unknown id.
      if (!(await deleteAnnotationById(ctx.services.db, annotation.id))) throw notFound('annotation', annotation.id);
      announce(ctx, annotation);
      return true;
    },
  }),
}));

builder.queryField('impact', (t) =>
  t.field({
    type: ImpactRef,
    description: 'How the KPIs moved across an annotated change: the days before it against the days after it.',
    args: {
      annotationId: t.arg.id({ required: true }),
      days: t.arg.int({ required: false, defaultValue: 30 }),
      filter: t.arg({ type: [AttributeFilterInput], required: false }),
    },
    authScopes: { read: true },
    resolve: async (_, args, ctx) => {
      const days = checkDays(args.days);
      const annotation = await visibleAnnotation(ctx, String(args.annotationId));
      return computeImpact(ctx, annotation, days, args.filter);
    },
  }),
);

builder.objectField(DashboardRef, 'annotations', (t) =>
  t.field({
    type: [AnnotationRef],
    description: "Annotations of the dashboard's programs that fall in its range, oldest first.",
    resolve: (dashboard, _, ctx) => {
      const { range, programs } = dashboard.scope;
      if (!range) return [];
      return annotationsInRange(
        ctx.services.db,
        programs.map((p) => p.id),
        range,
      );
    },
  }),
);
