/**
 * Persisted operations, on yoga's plugin (@graphql-yoga/plugin-persisted-operations), in one of two modes:
 *
 * - `auto` (the default): automatic persisted queries as Apollo's PersistedQueryLink speaks them. A
 *   hash alone is looked up; unknown, it answers `PersistedQueryNotFound` and the client sends the
 *   query with its hash, which is checked (sha256 of the text) before it is kept. A mismatching hash
 *   is refused (PERSISTED_QUERY_HASH_MISMATCH) and never kept. Queries sent as text still work.
 * - `only` (trusted documents): only the documents codegen generated for the typed client and the
 *   page (src/client/generated.ts), plus those of PERSISTED_OPERATIONS_FILE, are accepted, by hash or
 *   as text; anything else is refused (OPERATION_NOT_TRUSTED) before it is parsed, so nothing runs.
 *
 * The yoga plugin looks hashes up; hash checking and keeping, which it leaves to us, are here
 * (yoga's APQ plugin would do them, but its only release on the registry wants @graphql-tools/utils 10).
 * WebSocket operations do not pass yoga's onParams, so ws.server.ts asks `admits` itself.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { parse, print } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import * as generated from '../client/generated.js';
import { ConfigError } from '../config.js';
import { userError } from '../schema/errors.js';

export type PersistedMode = 'auto' | 'only';

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Automatically persisted queries kept per instance (another instance asks for the text once). */
const KEPT_QUERIES = 5_000;
const KEPT_BYTES = 32 * 1024 * 1024;

export class PersistedOperations {
  private readonly byHash: LRUCache<string, string>;
  /** Texts accepted in `only` mode, as sent and as graphql-js prints them. */
  private readonly trustedTexts = new Set<string>();

  constructor(
    readonly mode: PersistedMode,
    extra: Record<string, string> = {},
  ) {
    this.byHash = new LRUCache({ max: KEPT_QUERIES, maxSize: KEPT_BYTES, sizeCalculation: (text) => text.length || 1 });
    if (mode === 'only') {
      for (const text of [...codegenDocuments(), ...Object.values(extra)]) this.trust(text);
      // A deployment's file may key its documents by its own hash (a name, a build id): those keys work too.
      for (const [key, text] of Object.entries(extra)) this.byHash.set(key, text);
    }
  }

  private trust(text: string) {
    this.trustedTexts.add(text);
    this.byHash.set(sha256(text), text);
    // Apollo hashes the document as graphql-js prints it; codegen's text is formatted otherwise.
    const printed = print(parse(text));
    this.trustedTexts.add(printed);
    this.byHash.set(sha256(printed), printed);
  }

  /** The text stored under a hash, or null. */
  lookup(hash: string): string | null {
    return this.byHash.get(hash.toLowerCase()) ?? null;
  }

  /** Throws the refusal for a text request that may not run; keeps an APQ text whose hash matches. */
  admits(query: string, hash: string | null): void {
    if (hash !== null && sha256(query) !== hash.toLowerCase()) {
      throw userError('PERSISTED_QUERY_HASH_MISMATCH', 'persistedQuery.sha256Hash is not the SHA-256 of the query');
    }
    if (this.mode === 'only') {
      if (!this.trustedTexts.has(query)) {
        throw userError(
          'OPERATION_NOT_TRUSTED',
          'this server accepts only its trusted documents (PERSISTED_OPERATIONS=only), and this one is not among them',
        );
      }
      return;
    }
    if (hash !== null) this.byHash.set(hash.toLowerCase(), query);
  }

  plugin(): Plugin {
    const lookup = usePersistedOperations({
      allowArbitraryOperations: true,
      getPersistedOperation: (hash) => this.lookup(hash),
      customErrors: {
        // The message is what Apollo's PersistedQueryLink looks for before it sends the text.
        notFound: {
          message: 'PersistedQueryNotFound',
          extensions: { code: 'PERSISTED_QUERY_NOT_FOUND', http: { status: 400 } },
        },
      },
    });
    return {
      onParams: (payload) => {
        const hash = persistedHashOf(payload.params);
        const { query } = payload.params;
        if (typeof query === 'string' && query !== '') return this.admits(query, hash);
        // Without text or hash, yoga answers its own "Must provide query string." (as the audit expects).
        if (hash !== null) return lookup.onParams!(payload);
      },
    };
  }
}

/** Apollo's `extensions.persistedQuery: { version: 1, sha256Hash }`, or null. */
export function persistedHashOf(params: { extensions?: GraphQLParams['extensions'] | null }): string | null {
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)
    ?.persistedQuery;
  if (!persisted || typeof persisted !== 'object') return null;
  if (persisted.version !== 1 || typeof persisted.sha256Hash !== 'string') {
    throw userError('BAD_USER_INPUT', 'extensions.persistedQuery must be { version: 1, sha256Hash: "<hex>" }');
  }
  return persisted.sha256Hash;
}

/** Every operation document codegen generated for the typed client (and so for the page). */
function codegenDocuments(): string[] {
  return Object.entries(generated)
    .filter(([name, value]) => name.endsWith('Document') && value instanceof generated.TypedDocumentString)
    .map(([, value]) => String(value));
}

/**
 * PERSISTED_OPERATIONS_FILE: a deployment's own documents, as `{ "<hash>": "<document>" }` (GraphQL
 * Code Generator's persisted-documents.json) or Apollo's persisted query manifest.
 */
export function readPersistedFile(file: string): Record<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`PERSISTED_OPERATIONS_FILE: cannot read "${file}" as JSON (${(error as Error).message})`);
  }
  const manifest = json as { format?: unknown; operations?: { id?: unknown; body?: unknown }[] };
  const entries =
    manifest?.format === 'apollo-persisted-query-manifest' && Array.isArray(manifest.operations)
      ? manifest.operations.map((o) => [o.id, o.body] as const)
      : Object.entries(json ?? {});
  const documents: Record<string, string> = {};
  for (const [id, body] of entries) {
    if (typeof id !== 'string' || typeof body !== 'string') {
      throw new ConfigError(`PERSISTED_OPERATIONS_FILE: "${file}" must map ids to document strings`);
    }
    try {
      parse(body);
    } catch (error) {
      throw new ConfigError(
        `PERSISTED_OPERATIONS_FILE: the document "${id}" does not parse: ${(error as Error).message}`,
      );
    }
    documents[id] = body;
  }
  return documents;
}
