/** dashboardUpdated: the dashboard query, kept current by the live feed (feed.ts). */
import { builder } from '../schema/builder.js';
import { DashboardRef, dashboardArgs } from './dashboard.schema.js';
import { authorizeScope, type DashboardView } from './dashboard.service.js';

builder.subscriptionFields((t) => ({
  dashboardUpdated: t.field({
    type: DashboardRef,
    description: 'Emits the current dashboard at once, then again after every change in its scope.',
    args: dashboardArgs,
    authScopes: { read: true },
    subscribe: async (_, args, ctx) => {
      // The same checks as the query (bad input, FORBIDDEN, NOT_FOUND), before anything is held;
      // the feed recomputes from this scope, as it was authorized.
      const programId = args.programId == null ? null : String(args.programId);
      const scope = await authorizeScope(ctx, { ...args, programId });
      return ctx.services.feed.subscribe(ctx.services, scope);
    },
    resolve: (view) => view as DashboardView,
  }),
}));
