import type { CodegenConfig } from '@graphql-codegen/cli';

const shared = {
  scalars: { DateTime: 'string', ID: 'string' },
  enumsAsTypes: true,
  avoidOptionals: { field: true, inputValue: false, object: true, defaultValue: false },
  useTypeImports: true,
};

/**
 * Types every operation the tests send, so a schema change that breaks a client breaks the build;
 * and the typed client's operations (src/client/generated.ts, committed so that `npm start` and the
 * page build work on a fresh clone; `.ci/run` fails when it is stale).
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    'test/generated/operations.ts': {
      documents: ['test/operations/*.graphql'],
      plugins: ['typescript-operations', 'typed-document-node'],
      config: shared,
    },
    // Documents as plain strings: the client (and the page's bundle) needs no GraphQL parser.
    'src/client/generated.ts': {
      documents: ['src/client/operations/*.graphql'],
      plugins: ['typescript-operations', 'typed-document-node'],
      config: { ...shared, documentMode: 'string' },
    },
  },
};
export default config;
