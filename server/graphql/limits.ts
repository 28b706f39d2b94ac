import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

/**
 * A validation rule that bounds each operation's depth and its cost (fields selected,
 * fragments expanded). Introspection (`__schema`, `__type`) is exempt so that GraphiQL works.
 */
export function operationLimits(maxDepth: number, maxCost: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of context.getDocument().definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);

    function measure(set: SelectionSetNode, depth: number, seen: Set<string>): { depth: number; cost: number } {
      let max = depth;
      let cost = 0;
      for (const sel of set.selections) {
        if (sel.kind === Kind.FIELD) {
          if (sel.name.value.startsWith('__')) continue;
          cost++;
          if (sel.selectionSet) {
            const inner = measure(sel.selectionSet, depth + 1, seen);
            max = Math.max(max, inner.depth);
            cost += inner.cost;
          } else max = Math.max(max, depth + 1);
        } else {
          const target = sel.kind === Kind.INLINE_FRAGMENT ? sel.selectionSet : fragments.get(sel.name.value)?.selectionSet;
          if (!target || (sel.kind === Kind.FRAGMENT_SPREAD && seen.has(sel.name.value))) continue;
          const inner = measure(target, depth, sel.kind === Kind.FRAGMENT_SPREAD ? new Set([...seen, sel.name.value]) : seen);
          max = Math.max(max, inner.depth);
          cost += inner.cost;
        }
        if (cost > maxCost) break;
      }
      return { depth: max, cost };
    }

    return {
      OperationDefinition(node) {
        const { depth, cost } = measure(node.selectionSet, 0, new Set());
        if (depth > maxDepth)
          context.reportError(
            new GraphQLError(`Query is ${depth} levels deep; the limit is ${maxDepth}`, { nodes: [node], extensions: { code: 'QUERY_TOO_DEEP' } }),
          );
        if (cost > maxCost)
          context.reportError(
            new GraphQLError(`Query selects over ${maxCost} fields (fragments expanded); the limit is ${maxCost}`, {
              nodes: [node],
              extensions: { code: 'QUERY_TOO_COSTLY' },
            }),
          );
      },
    };
  };
}
