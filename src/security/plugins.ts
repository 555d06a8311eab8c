/**
 * The security part of yoga's plugin stack, in the order a request meets it: the body limit while
 * the request is read, production's refusals (introspection, field suggestions), the token limit
 * while parsing, depth/aliases/directives during validation, then the cost limit and the per-key
 * rate limit just before execution. Nothing here lets a resolver run for a refused request.
 */
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import type { Plugin } from 'graphql-yoga';
import type { Config } from '../config.js';
import { eventsPerRequestPlugin } from './events-per-request.js';
import { noSuggestions } from './no-suggestions.js';
import { inputErrorPlugins } from './input-errors.js';
import { limitPlugins } from './limits.js';
import { badRequestOnParseFailure } from './parse-errors.js';
import { rateLimitPlugin, type RateLimits } from './rate-limit.js';

export function securityPlugins(config: Config, rateLimits: RateLimits): Plugin<any>[] {
  // Production: no schema for strangers, and no "Did you mean ...?" that leaks field names.
  const production = config.production
    ? [useDisableIntrospection(), blockFieldSuggestionsPlugin(), noSuggestions()]
    : [];
  return [
    ...production,
    ...limitPlugins(config.limits),
    eventsPerRequestPlugin(),
    // After the body limit, so it also wraps the byte-counting parser.
    badRequestOnParseFailure(),
    rateLimitPlugin(rateLimits),
    ...inputErrorPlugins(),
  ];
}
