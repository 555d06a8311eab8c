/** The schema builder and its plugins; nothing else. Modules add their types to it. */
import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import AuditPlugin from '../audit/audit.plugin.js';
import { canRead, canRecord, canSeeProgram, isAdmin } from '../auth/caller.js';
import type { Context } from '../context.js';
import { forbidden } from './errors.js';

export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: number; Output: number };
    ID: { Input: string; Output: string | number };
  };
  AuthScopes: {
    admin: boolean;
    read: boolean;
    record: boolean;
    /** The caller's key may see this program. */
    program: string;
  };
}>({
  defaultFieldNullability: false,
  // AuditPlugin: every admin mutation that succeeds is written to the audit log.
  plugins: [ScopeAuthPlugin, DataloaderPlugin, AuditPlugin],
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({
      admin: isAdmin(ctx.caller),
      read: canRead(ctx.caller),
      record: canRecord(ctx.caller),
      program: (programId: string) => canSeeProgram(ctx.caller, programId),
    }),
    unauthorizedError: () => forbidden(),
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
