/**
 * A plugin that checks an operation just before it executes, over HTTP and WebSocket alike, and
 * answers with the check's error instead of running any resolver.
 */
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface OperationArgs {
  schema: import('graphql').GraphQLSchema;
  document: import('graphql').DocumentNode;
  operationName?: string | null;
  variableValues?: Record<string, unknown> | null;
  contextValue: any;
}

export function refuseBeforeExecution(check: (args: OperationArgs) => GraphQLError | null): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = check(args);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}
