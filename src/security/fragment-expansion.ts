/**
 * A bound checked before validation: the selections an operation would hold if every fragment
 * spread were copied out where it stands (LIMIT_EXPANDED_SELECTIONS). A chain of fragments that
 * each spread the next one twice is a few hundred bytes and 2^20 selections this way: validation
 * and the cost walk would take it (each fragment is visited once), but every such document still
 * costs a few milliseconds of validation, and a flood of them starves other clients. Refused here,
 * it costs a parse and one walk that visits each fragment once and stops past the bound. Real
 * documents stay far below it: the largest operation of the page, the typed client and the tests
 * expands to fewer than 200 selections.
 */
import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from '../schema/errors.js';

/** The most selections any operation of `document` expands to, counted up to `stopAt` + 1. */
export function expandedSelections(document: DocumentNode, stopAt: number): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  // Each fragment is counted once; a cycle (refused by validation later) counts as nothing.
  const sizes = new Map<string, number>();
  const size = (set: SelectionSetNode): number => {
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) total += 1 + (selection.selectionSet ? size(selection.selectionSet) : 0);
      else if (selection.kind === Kind.INLINE_FRAGMENT) total += size(selection.selectionSet);
      else {
        const name = selection.name.value;
        let known = sizes.get(name);
        if (known === undefined) {
          const fragment = fragments.get(name);
          sizes.set(name, 0);
          known = fragment ? size(fragment.selectionSet) : 0;
          sizes.set(name, known);
        }
        total += known;
      }
      if (total > stopAt) return stopAt + 1;
    }
    return total;
  };
  let most = 0;
  for (const definition of document.definitions)
    if (definition.kind === Kind.OPERATION_DEFINITION) most = Math.max(most, size(definition.selectionSet));
  return most;
}

export function expandedSelectionsPlugin(max: number): Plugin {
  // Yoga hands equal documents over as one parsed object: each is judged once.
  const judged = new WeakMap<DocumentNode, number>();
  return {
    onValidate({ params, setResult }) {
      let expanded = judged.get(params.documentAST);
      if (expanded === undefined)
        judged.set(params.documentAST, (expanded = expandedSelections(params.documentAST, max)));
      if (expanded > max)
        setResult([
          limitExceeded(
            'expandedSelections',
            max,
            `the operation holds more than ${max} selections once its fragments are expanded; spread each fragment where it is needed, not in chains`,
          ),
        ]);
    },
  };
}
