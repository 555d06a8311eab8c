import { builder } from '../schema/builder.js';
import { badInput, forbidden, notFound } from '../schema/errors.js';
import type { Role } from '../db/types.js';
import { actorOf, coversPrograms, type Caller } from './caller.js';
import { createKey, keyById, listKeys, programIdsOf, revokeKey, type ApiKey } from './keys.repository.js';
import { programsByIds } from '../programs/programs.repository.js';

export const RoleEnum = builder.enumType('Role', { values: ['ADMIN', 'INTEGRATION', 'VIEWER'] as const });

const ApiKeyRef = builder.objectRef<ApiKey>('ApiKey').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    role: t.field({ type: RoleEnum, resolve: (key) => key.role }),
    programIds: t.field({
      type: ['ID'],
      nullable: true,
      description: 'Null: every program.',
      resolve: (key) => programIdsOf(key),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (key) => Number(key.created_at) }),
    revokedAt: t.field({
      type: 'DateTime',
      nullable: true,
      resolve: (key) => (key.revoked_at === null ? null : Number(key.revoked_at)),
    }),
  }),
});

const CreatedApiKey = builder.objectRef<{ secret: string; key: ApiKey }>('CreatedApiKey').implement({
  fields: (t) => ({
    key: t.exposeString('secret', { description: 'The secret, shown once and never stored in clear.' }),
    apiKey: t.field({ type: ApiKeyRef, resolve: (created) => created.key }),
  }),
});

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    role: t.field({ type: RoleEnum, required: true }),
    programIds: t.idList({ required: false }),
  }),
});

/** The caller's own key, so a front end shows only what its key may do (e.g. admin buttons). */
const CallerRef = builder.objectRef<Caller>('Caller').implement({
  fields: (t) => ({
    id: t.id({
      description: 'The key id, or "ADMIN_API_KEY" for the bootstrap key: one cache entry per key.',
      resolve: (c) => actorOf(c),
    }),
    keyId: t.id({ nullable: true, description: 'Null for the bootstrap ADMIN_API_KEY.', resolve: (c) => c.keyId }),
    role: t.field({ type: RoleEnum, resolve: (c) => c.role }),
    programIds: t.field({
      type: ['ID'],
      nullable: true,
      description: 'Null: every program.',
      resolve: (c) => c.programIds,
    }),
  }),
});

builder.queryFields((t) => ({
  me: t.field({
    type: CallerRef,
    description: 'The key that makes this request: its role and the programs it may see.',
    authScopes: { read: true },
    resolve: (_, __, ctx) => ctx.caller,
  }),
  apiKeys: t.field({
    type: [ApiKeyRef],
    authScopes: { admin: true },
    description: 'An admin key limited to some programs sees only keys limited to those programs.',
    resolve: async (_, __, ctx) =>
      (await listKeys(ctx.services.db)).filter((key) => coversPrograms(ctx.caller, programIdsOf(key))),
  }),
}));

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKey,
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { input }, ctx) => {
      const name = input.name.trim();
      if (name.length < 1 || name.length > 200) throw badInput('name', 'must be 1 to 200 characters');
      const programIds = input.programIds ? [...new Set(input.programIds.map(String))] : null;
      // No key may mint a key that sees more than it does.
      if (!coversPrograms(ctx.caller, programIds))
        throw forbidden('a key limited to some programs may only create keys limited to those programs');
      if (programIds) {
        if (programIds.length === 0)
          throw badInput('programIds', 'must name at least one program, or be null for every program');
        const found = new Set((await programsByIds(ctx.services.db, programIds)).map((p) => p.id));
        const missing = programIds.find((id) => !found.has(id));
        if (missing) throw notFound('program', missing);
      }
      return createKey(ctx.services.db, { name, role: input.role as Role, programIds }, ctx.services.now());
    },
  }),
  revokeApiKey: t.field({
    type: ApiKeyRef,
    args: { id: t.arg.id({ required: true }) },
    authScopes: { admin: true },
    resolve: async (_, { id }, ctx) => {
      // A key for other programs (or for every program) is not this caller's to see or revoke.
      const existing = await keyById(ctx.services.db, String(id));
      if (!existing || !coversPrograms(ctx.caller, programIdsOf(existing))) throw notFound('API key', String(id));
      const key = await revokeKey(ctx.services.db, String(id), ctx.services.now());
      if (!key) throw notFound('API key', String(id));
      // This instance refuses the key from its next request on; other instances hear the channel.
      ctx.services.authenticator.forget(key.id);
      ctx.services.pubsub.publish('keyRevoked', key.id);
      return key;
    },
  }),
}));
