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

/**
 * Refuses a document whose brackets (selection sets, lists, objects, argument lists) nest
 * deeper than `max`, before it is parsed: graphql-js parses recursively, so a document nested
 * thousands deep would exhaust the stack instead of failing validation.
 * @throws GraphQLError QUERY_TOO_DEEP (HTTP 400)
 */
export function assertDocumentNesting(source: string, max: number): void {
  let depth = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 35 /* # */) {
      while (i < source.length && source.charCodeAt(i) !== 10 && source.charCodeAt(i) !== 13) i++;
    } else if (c === 34 /* " */) {
      if (source.startsWith('"""', i)) {
        // A block string ends at the first """ that is not escaped as \""".
        for (i += 3; i < source.length && !source.startsWith('"""', i); i++) if (source.startsWith('\\"""', i)) i += 3;
        i += 2;
        continue;
      }
      for (i++; i < source.length; i++) {
        const d = source.charCodeAt(i);
        if (d === 92 /* \ */) i++;
        else if (d === 34 || d === 10) break;
      }
    } else if (c === 123 || c === 91 || c === 40) {
      if (++depth > max)
        throw new GraphQLError(`Document nests brackets deeper than ${max} levels`, { extensions: { code: 'QUERY_TOO_DEEP', http: { status: 400 } } });
    } else if (c === 125 || c === 93 || c === 41) depth--;
  }
}
