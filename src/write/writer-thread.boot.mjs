// Node 20 does not hand tsx's loader to worker threads: the worker registers it, then loads its
// TypeScript entry (workerData.entry).
import { workerData } from 'node:worker_threads';
// biome-ignore lint/correctness/noUndeclaredDependencies: used only where the .ts source runs (dev, tests), never from dist/
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
