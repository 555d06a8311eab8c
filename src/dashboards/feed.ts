/**
 * The live feed: change notices → the live scopes they touch → one recomputation per scope →
 * a push to every subscriber of that scope.
 *
 * A live scope is one dashboard (programs, range, granularity, zone) as a set of subscribers sees
 * it. Subscribers whose arguments resolve to the same scope, and who may see the same programs,
 * share one scope (it is the scope authorized at subscribe time, kept, and loaded again from
 * itself on every change: dashboard.service.ts computeDashboard): 5,000 viewers of one program cost one KPI computation per change, and every
 * one of them receives the same DashboardView (whose KPI blocks are computed once, memoized).
 *
 * Bursts are coalesced per scope: at most one push per throttle interval, and a change that
 * arrives during a computation or inside the interval marks the scope dirty, so the last state is
 * always computed and pushed once the interval has passed.
 */
import { Repeater, SlidingBuffer } from '@repeaterjs/repeater';
import type { Services } from '../context.js';
import type { ChangeNotice, EventBus } from '../realtime/pubsub.js';
import { attachSink, shareResults, type Sink, type SinkSource } from '../realtime/shared-events.js';
import { computeDashboard, scopeKey, type AuthorizedScope, type DashboardView } from './dashboard.service.js';

export interface FeedStats {
  /** Live scopes held (each with at least one subscriber). */
  scopes: number;
  subscribers: number;
  /** Dashboards computed since start: one per scope creation and one per coalesced change. */
  computations: number;
  /** Views handed to subscribers (snapshots included). */
  pushes: number;
}

interface Subscriber {
  push(view: DashboardView): void;
  end(): void;
}

interface LiveScope {
  key: string;
  services: Services;
  /** As authorized for its first subscriber; every subscriber's scope has the same key. */
  scope: AuthorizedScope;
  /** Programs whose changes concern the scope; null means every program. */
  programIds: readonly string[] | null;
  subscribers: Set<Subscriber>;
  latest: DashboardView | null;
  dirty: boolean;
  computing: boolean;
  timer: NodeJS.Timeout | null;
  lastPushAt: number;
  closed: boolean;
}

export interface FeedOptions {
  /** Least time between two pushes of one scope (ms). */
  throttleMs: number;
  /** Where computation failures are reported. */
  log?: (message: string, error: unknown) => void;
}

export class LiveFeed {
  private readonly scopes = new Map<string, LiveScope>();
  /** programId → scopes limited to programs that include it; `everyProgram` holds the rest. */
  private readonly byProgram = new Map<string, Set<LiveScope>>();
  private readonly everyProgram = new Set<LiveScope>();
  private readonly listeners: { return?(): unknown }[] = [];
  private computations = 0;
  private pushes = 0;
  private closed = false;

  constructor(
    bus: EventBus,
    private readonly options: FeedOptions,
  ) {
    // One listener per channel for the whole feed, however many subscribers: a subscriber costs
    // a set entry, not a listener.
    this.listen(bus.subscribe('changes'), (notice) =>
      this.changed(notice.programId, (live) => touchesRange(live.scope, notice)),
    );
    // A dashboard shows its programs' open alerts (activeAlerts), whatever its range.
    this.listen(bus.subscribe('alertChanged'), (alert) => this.changed(alert.program_id, () => true));
  }

  /**
   * Joins the live scope of `scope` (authorized for the subscriber by authorizeScope; a revoked
   * key's subscription is ended by src/realtime/end-on-revocation.ts): yields the current dashboard at once, then the dashboard after each change in the scope. A slow consumer
   * skips intermediate states, never the last one.
   */
  subscribe(
    services: Services,
    scope: AuthorizedScope,
  ): AsyncIterableIterator<DashboardView> & SinkSource<DashboardView> {
    const stream = new Repeater<DashboardView>(async (push, stop) => {
      const detach = this.attach(services, scope, { push: (view) => void push(view), end: () => stop() });
      await stop;
      detach();
    }, new SlidingBuffer(1));
    // Or, instead of iterating, a sink joins the scope: the same views, in the same order, each
    // handed over synchronously (a WebSocket subscription writes them out at once: direct-delivery.ts).
    return Object.assign(stream, {
      [attachSink]: (sink: Sink<DashboardView>) => this.attach(services, scope, sink),
    });
  }

  /** Joins `sink` to the live scope of `scope`; the returned function makes it leave. */
  private attach(services: Services, scope: AuthorizedScope, sink: Sink<DashboardView>): () => void {
    const subscriber: Subscriber = {
      push: (view) => {
        this.pushes++;
        sink.push(view);
      },
      end: () => sink.end(),
    };
    const live = this.join(services, scope, subscriber);
    return () => this.leave(live, subscriber);
  }

  stats(): FeedStats {
    let subscribers = 0;
    for (const scope of this.scopes.values()) subscribers += scope.subscribers.size;
    return { scopes: this.scopes.size, subscribers, computations: this.computations, pushes: this.pushes };
  }

  /** Ends every subscription and stops listening (on shutdown). */
  close(): void {
    this.closed = true;
    for (const listener of this.listeners) listener.return?.();
    for (const scope of [...this.scopes.values()]) for (const subscriber of [...scope.subscribers]) subscriber.end();
  }

  private listen<T>(source: AsyncIterableIterator<T>, handle: (value: T) => void) {
    this.listeners.push(source);
    void (async () => {
      for await (const value of source) handle(value);
    })();
  }

  private join(services: Services, scope: AuthorizedScope, subscriber: Subscriber): LiveScope {
    if (this.closed) {
      subscriber.end();
      return this.newScope(services, scope);
    }
    const key = scopeKey(scope);
    let live = this.scopes.get(key);
    if (!live) {
      live = this.newScope(services, scope);
      this.scopes.set(key, live);
      this.index(live, true);
      live.subscribers.add(subscriber);
      void this.refresh(live);
      return live;
    }
    live.subscribers.add(subscriber);
    // The scope's latest state is the current dashboard; a pending change follows within the interval.
    if (live.latest) subscriber.push(live.latest);
    return live;
  }

  private newScope(services: Services, scope: AuthorizedScope): LiveScope {
    return {
      key: scopeKey(scope),
      services,
      scope,
      programIds: scope.programIds === null ? null : [...new Set<string>(scope.programIds)].sort(),
      subscribers: new Set(),
      latest: null,
      dirty: false,
      computing: false,
      timer: null,
      lastPushAt: 0,
      closed: false,
    };
  }

  private leave(live: LiveScope, subscriber: Subscriber) {
    live.subscribers.delete(subscriber);
    if (live.subscribers.size > 0 || live.closed) return;
    live.closed = true;
    if (live.timer) clearTimeout(live.timer);
    live.timer = null;
    live.latest = null;
    if (this.scopes.get(live.key) === live) {
      this.scopes.delete(live.key);
      this.index(live, false);
    }
  }

  private index(live: LiveScope, add: boolean) {
    if (live.programIds === null) {
      if (add) this.everyProgram.add(live);
      else this.everyProgram.delete(live);
      return;
    }
    for (const id of live.programIds) {
      let set = this.byProgram.get(id);
      if (add) {
        if (!set) this.byProgram.set(id, (set = new Set()));
        set.add(live);
      } else if (set) {
        set.delete(live);
        if (set.size === 0) this.byProgram.delete(id);
      }
    }
  }

  private changed(programId: string, concerns: (live: LiveScope) => boolean) {
    for (const set of [this.byProgram.get(programId), this.everyProgram]) {
      if (!set) continue;
      for (const live of set) {
        if (!concerns(live)) continue;
        live.dirty = true;
        this.schedule(live);
      }
    }
  }

  /** Plans the next computation: at once after a quiet interval, else when the interval ends. */
  private schedule(live: LiveScope) {
    if (live.timer || live.computing || live.closed) return;
    const wait = Math.max(0, live.lastPushAt + this.options.throttleMs - Date.now());
    live.timer = setTimeout(() => {
      live.timer = null;
      void this.refresh(live);
    }, wait);
  }

  private async refresh(live: LiveScope) {
    live.dirty = false;
    live.computing = true;
    try {
      const view = await this.compute(live);
      if (!live.closed) {
        live.latest = view;
        for (const subscriber of live.subscribers) subscriber.push(view);
      }
    } catch (error) {
      // Subscribers keep the last state they had; the next change in the scope tries again.
      (this.options.log ?? defaultLog)(`live dashboard ${live.key} could not be computed`, error);
    } finally {
      live.computing = false;
      live.lastPushAt = Date.now();
      if (live.dirty) this.schedule(live);
    }
  }

  private async compute(live: LiveScope): Promise<DashboardView> {
    this.computations++;
    const view = await computeDashboard(live.services, live.scope);
    // Every subscriber of the scope receives this one view: equal operations execute once on it.
    return shareResults(view);
  }
}

/** Whether a change in [notice.from, notice.to) overlaps the range; an open bound takes anything. */
export function touchesRange(scope: Pick<AuthorizedScope, 'from' | 'to'>, notice: ChangeNotice): boolean {
  if (scope.from !== null && notice.to <= scope.from) return false;
  if (scope.to !== null && notice.from >= scope.to) return false;
  return true;
}

function defaultLog(message: string, error: unknown) {
  console.error(message, error);
}
