/**
 * The one place admin actions are audited: a Pothos plugin that wraps every mutation whose
 * authScopes are `{ admin: true }` (keys, programs, rules, targets, webhooks, retractions,
 * acknowledgements) and, once its resolver has succeeded, writes who did what to which id.
 * A new admin mutation is audited without anyone remembering to; a refused or failed one is not
 * written (nothing happened). Audited fields carry `extensions.audited` so tests can list them.
 *
 * The entry is written after the action's own commit and before the answer: a crash in between
 * loses the entry, never the action. A failed audit write is logged, not turned into a failed
 * answer for an action that did happen.
 */
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';
import { actorOf } from '../auth/caller.js';
import type { Context } from '../context.js';
import { insertAuditEntry } from './audit.repository.js';

const pluginName = 'audit';

declare global {
  export namespace PothosSchemaTypes {
    export interface Plugins<Types extends SchemaTypes> {
      audit: PothosAuditPlugin<Types>;
    }
  }
}

/** Argument names whose values never reach the log. */
const SECRET = /secret|password|token/i;

export class PothosAuditPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    if (!isAdminMutation(fieldConfig)) return fieldConfig;
    return { ...fieldConfig, extensions: { ...fieldConfig.extensions, audited: true } };
  }

  override wrapResolve(
    resolver: GraphQLFieldResolver<unknown, Types['Context'], object>,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): GraphQLFieldResolver<unknown, Types['Context'], object> {
    if (!isAdminMutation(fieldConfig)) return resolver;
    return async (parent, args, context, info) => {
      const result = await resolver(parent, args, context, info);
      const ctx = context as unknown as Context;
      try {
        await insertAuditEntry(ctx.services.db, {
          at: ctx.services.now(),
          actor: actorOf(ctx.caller),
          action: info.fieldName,
          target_id: targetOf(args as Record<string, unknown>, result),
          details: JSON.stringify(redact(args)),
        });
      } catch (error) {
        console.error(`audit entry for ${info.fieldName} was not written:`, error);
      }
      return result;
    };
  }
}

function isAdminMutation(fieldConfig: { kind: string; pothosOptions: object }): boolean {
  if (fieldConfig.kind !== 'Mutation') return false;
  const scopes = (fieldConfig.pothosOptions as { authScopes?: unknown }).authScopes;
  return typeof scopes === 'object' && scopes !== null && (scopes as { admin?: unknown }).admin === true;
}

/** What the action was about: the id it was given, else the id of what it made. */
function targetOf(args: Record<string, unknown>, result: unknown): string | null {
  if (args.id != null) return String(args.id);
  const made = result as { id?: unknown; key?: { id?: unknown } } | null;
  const id = made?.id ?? made?.key?.id;
  return id == null ? null : String(id);
}

function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET.test(k) ? '[redacted]' : redact(v)]));
}

SchemaBuilder.registerPlugin(pluginName, PothosAuditPlugin);

export default pluginName;
