/**
 * The server compiled to JavaScript (`npm run build`): src/main.ts and the SQLite writer thread's
 * entry, each bundled by esbuild into one ES module with packages left to node_modules, so
 * `node dist/server/main.mjs` runs without tsx. esbuild is also what tsx compiles with, so the code
 * that runs compiled is the code the tests run. test/helpers/process.ts builds through the same
 * function.
 *
 * Layout: dist/server/ is two folders below the root, as src/<feature>/ is, so paths a module
 * names relative to itself (web/dist, schema.graphql) resolve the same compiled or not; the
 * thread's entry sits beside main.mjs, where src/write/writer-thread.ts looks for it.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type OutputFile } from 'esbuild';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVER_DIR = path.join(ROOT, 'dist/server');

/** The compiled files in memory: main.mjs and writer-thread.worker.mjs (paths under `/`). */
export async function compileServer(): Promise<OutputFile[]> {
  const { outputFiles } = await build({
    entryPoints: {
      main: path.join(ROOT, 'src/main.ts'),
      'writer-thread.worker': path.join(ROOT, 'src/write/writer-thread.worker.ts'),
    },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    outdir: '/',
    outExtension: { '.js': '.mjs' },
    write: false,
    logLevel: 'warning',
  });
  return outputFiles;
}

/** Writes the compiled files to `dir` (replacing what was there). */
export function writeServer(files: OutputFile[], dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of files) writeFileSync(path.join(dir, path.basename(file.path)), file.contents);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeServer(await compileServer(), SERVER_DIR);
  console.log(`server compiled to ${path.relative(ROOT, SERVER_DIR)}/`);
}
