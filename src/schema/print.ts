/** Prints the schema to schema.graphql (--write) or fails when the committed file is stale (--check). */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from './index.js';

export const schemaFile = fileURLToPath(new URL('../../schema.graphql', import.meta.url));
export const printedSchema = () => `${printSchema(schema)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) {
    writeFileSync(schemaFile, printedSchema());
    console.log(`wrote ${schemaFile}`);
  } else {
    const committed = readFileSync(schemaFile, 'utf8');
    if (committed !== printedSchema()) {
      console.error('schema.graphql is stale: run `npm run schema:print` and commit it');
      process.exit(1);
    }
    console.log('schema.graphql is up to date');
  }
}
