import { RESOLUTION_DAYS } from '../kpis/registry.js';
import { isValidTimeZone } from '../kpis/time.js';
import { assertEveryProgram, visible } from '../auth/caller.js';
import { visibleProgram } from './program-access.js';
import { builder } from '../schema/builder.js';
import { badInput, conflict } from '../schema/errors.js';
import { insertProgram, listPrograms, type Program } from './programs.repository.js';
import { type ProgramChanges, updateProgram } from './program-update.js';
import { dimensionsOf, insertDimensions } from './dimensions.repository.js';
import { checkDimensions, DimensionInput, DimensionRef } from './dimensions.schema.js';

export const ProgramRef = builder.objectRef<Program>('Program').implement({
  authScopes: (program) => ({ program: program.id }),
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    timezone: t.exposeString('timezone', { description: "IANA time zone used for the program's date buckets." }),
    dimensions: t.field({
      type: [DimensionRef],
      description: 'The attributes its events may carry (office, region, channel, case type...).',
      resolve: (program, _, ctx) => ctx.loaders.dimensions.load(program.id),
    }),
    resolutionStandardDays: t.float({
      nullable: true,
      description: 'The service standard: a case resolved within this many days meets it. Null: none set.',
      resolve: (program) =>
        program.resolution_standard_days === null ? null : Number(program.resolution_standard_days),
    }),
  }),
});

const CreateProgramInput = builder.inputType('CreateProgramInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ required: true }),
    timezone: t.string({ defaultValue: 'UTC' }),
    dimensions: t.field({ type: [DimensionInput] }),
    resolutionStandardDays: t.float({
      description: 'The service standard in days (0 to 36,500); null or absent: none.',
    }),
  }),
});

const UpdateProgramInput = builder.inputType('UpdateProgramInput', {
  description: 'What to change; a field left out keeps its value. resolutionStandardDays null removes the standard.',
  fields: (t) => ({
    name: t.string(),
    resolutionStandardDays: t.float(),
  }),
});

/** A finite number of days within a resolution time's range (the KPI registry), or null for none. */
function checkStandard(days: number | null | undefined, field: string): number | null {
  if (days === null || days === undefined) return null;
  const { min, max } = RESOLUTION_DAYS;
  if (!Number.isFinite(days) || days < min || days > max)
    throw badInput(field, `must be a finite number of days from ${min} to ${max}, or null for none`);
  return days;
}

function checkName(name: string, field: string): string {
  const trimmed = name.trim();
  if (trimmed.length < 1 || trimmed.length > 200) throw badInput(field, 'must be 1 to 200 characters');
  return trimmed;
}

const PROGRAM_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

builder.queryFields((t) => ({
  programs: t.field({
    type: [ProgramRef],
    description: 'The programs the caller may see.',
    authScopes: { read: true },
    resolve: async (_, __, ctx) => visible(ctx.caller, await listPrograms(ctx.services.db)),
  }),
  program: t.field({
    type: ProgramRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    authScopes: (_, args) => ({ $all: { read: true, program: String(args.id) } }),
    resolve: (_, args, ctx) => ctx.loaders.program.load(String(args.id)),
  }),
}));

builder.mutationFields((t) => ({
  createProgram: t.field({
    type: ProgramRef,
    args: { input: t.arg({ type: CreateProgramInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { input }, ctx) => {
      assertEveryProgram(ctx.caller);
      const id = String(input.id);
      if (!PROGRAM_ID.test(id)) {
        throw badInput('id', 'must be 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit');
      }
      const name = checkName(input.name, 'name');
      const timezone = input.timezone ?? 'UTC';
      if (!isValidTimeZone(timezone))
        throw badInput('timezone', `must be an IANA time zone such as "America/New_York" (got "${timezone}")`);
      const dimensions = checkDimensions(input.dimensions ?? [], [], (i) => `dimensions[${i}]`);
      const resolutionStandardDays = checkStandard(input.resolutionStandardDays, 'resolutionStandardDays');
      const program: Program = {
        id,
        name,
        timezone,
        created_at: ctx.services.now(),
        resolution_standard_days: resolutionStandardDays,
      };
      await ctx.services.db.transaction().execute(async (trx) => {
        if (!(await insertProgram(trx, program))) throw conflict(`program "${id}" already exists`);
        await insertDimensions(trx, id, dimensions, 0, program.created_at);
      });
      return program;
    },
  }),
}));

builder.mutationFields((t) => ({
  addDimension: t.field({
    type: ProgramRef,
    description: 'Declares one more dimension of a program. Dimensions are never removed or renamed.',
    args: { programId: t.arg.id({ required: true }), input: t.arg({ type: DimensionInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, args, ctx) => {
      const programId = String(args.programId);
      await visibleProgram(ctx, programId);
      const program = (await ctx.loaders.program.load(programId))!;
      await ctx.services.db.transaction().execute(async (trx) => {
        // Serialises with other writers of the program, so two additions cannot take one key or position.
        await ctx.services.database.lockPrograms(trx, [programId]);
        const existing = await dimensionsOf(trx, [programId]);
        const [dimension] = checkDimensions(
          [args.input],
          existing.map((d) => d.key),
          () => 'input',
        );
        await insertDimensions(trx, programId, [dimension], existing.length, ctx.services.now());
      });
      return program;
    },
  }),
}));

builder.mutationFields((t) => ({
  updateProgram: t.field({
    type: ProgramRef,
    description:
      'Renames a program or changes its service standard. A changed standard judges every stored resolution time again, so past answers agree with it; the answer comes once that is committed.',
    args: { id: t.arg.id({ required: true }), input: t.arg({ type: UpdateProgramInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, args, ctx) => {
      const id = String(args.id);
      const ref = await visibleProgram(ctx, id, { field: 'id' });
      const { input } = args;
      if (input.name === null) throw badInput('input.name', 'may not be null (leave it out to keep the name)');
      const name = input.name === undefined ? undefined : checkName(input.name, 'input.name');
      const changes: ProgramChanges = {};
      if (name !== undefined) changes.name = name;
      if (input.resolutionStandardDays !== undefined)
        changes.resolutionStandardDays = checkStandard(input.resolutionStandardDays, 'input.resolutionStandardDays');
      const { program, changed } = await updateProgram(ctx.services.database, ref, changes);
      // Live dashboards and alert rules of the program see the new answers.
      if (changed) ctx.services.pubsub.publish('changes', { programId: id, from: changed.start, to: changed.end });
      ctx.loaders.program.clear(id);
      return program;
    },
  }),
}));
