import { isValidTimeZone } from '../kpis/time.js';
import { assertEveryProgram, visible } from '../auth/caller.js';
import { visibleProgram } from './program-access.js';
import { builder } from '../schema/builder.js';
import { badInput, conflict } from '../schema/errors.js';
import { insertProgram, listPrograms, type Program } from './programs.repository.js';
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
  }),
});

const CreateProgramInput = builder.inputType('CreateProgramInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ required: true }),
    timezone: t.string({ defaultValue: 'UTC' }),
    dimensions: t.field({ type: [DimensionInput] }),
  }),
});

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
      const name = input.name.trim();
      if (name.length < 1 || name.length > 200) throw badInput('name', 'must be 1 to 200 characters');
      const timezone = input.timezone ?? 'UTC';
      if (!isValidTimeZone(timezone))
        throw badInput('timezone', `must be an IANA time zone such as "America/New_York" (got "${timezone}")`);
      const dimensions = checkDimensions(input.dimensions ?? [], [], (i) => `dimensions[${i}]`);
      const program: Program = { id, name, timezone, created_at: ctx.services.now() };
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
