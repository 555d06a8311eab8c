import { Repeater } from 'graphql-yoga';
import { createLoaders, type Context } from '../context.js';
import { builder } from '../schema/builder.js';
import type { DashboardArgs } from './dashboard.service.js';
import { DashboardRef, DashboardView, dashboardArgs, loadDashboard } from './dashboard.schema.js';

/** Whether a change notice touches the dashboard's programs and range. */
function touches(args: DashboardArgs, programIds: Set<string>, notice: { programId: string; from: number; to: number }) {
  if (!programIds.has(notice.programId)) return false;
  if (args.from != null && notice.to <= args.from) return false;
  if (args.to != null && notice.from >= args.to) return false;
  return true;
}

builder.subscriptionFields((t) => ({
  dashboardUpdated: t.field({
    type: DashboardRef,
    description: 'Emits the current dashboard at once, then again after every change in its scope.',
    args: dashboardArgs,
    authScopes: { read: true },
    subscribe: (_, rawArgs, ctx: Context) => {
      const args: DashboardArgs = { ...rawArgs, programId: rawArgs.programId == null ? null : String(rawArgs.programId) };
      return new Repeater(async (push, stop) => {
        const first = await loadDashboard(ctx, args);
        const programIds = new Set(first.scope.programs.map((p) => p.id));
        await push(first);
        const changes = ctx.services.pubsub.subscribe('changes');
        stop.then(() => changes.return?.());
        for await (const notice of changes) {
          if (!touches(args, programIds, notice)) continue;
          // Fresh loaders: a subscription's context lives on, and its caches would serve old numbers.
          await push(await loadDashboard({ ...ctx, loaders: createLoaders(ctx.services) }, args));
        }
      });
    },
    resolve: (view) => view as DashboardView,
  }),
}));
