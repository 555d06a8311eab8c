/**
 * `x in ()` is false on SQLite and a syntax error on PostgreSQL. Repositories pass lists that may
 * be empty (a batch with no events, a caller with no programs), so on PostgreSQL an empty list is
 * rewritten to what SQLite means by it: `in ()` to false, `not in ()` to true.
 */
import {
  BinaryOperationNode,
  OperationNodeTransformer,
  OperatorNode,
  PrimitiveValueListNode,
  ValueListNode,
  ValueNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

const isEmptyList = (node: BinaryOperationNode['rightOperand']) =>
  (PrimitiveValueListNode.is(node) && node.values.length === 0) || (ValueListNode.is(node) && node.values.length === 0);

class EmptyInListTransformer extends OperationNodeTransformer {
  protected override transformBinaryOperation(node: BinaryOperationNode): BinaryOperationNode {
    const operator = OperatorNode.is(node.operator) ? node.operator.operator : null;
    if ((operator === 'in' || operator === 'not in') && isEmptyList(node.rightOperand)) {
      // 1 = 0 (false) or 1 = 1 (true): constants, so no parameter is sent for them.
      return BinaryOperationNode.create(
        ValueNode.createImmediate(1),
        OperatorNode.create('='),
        ValueNode.createImmediate(operator === 'in' ? 0 : 1),
      );
    }
    return super.transformBinaryOperation(node);
  }
}

export class EmptyInListPlugin implements KyselyPlugin {
  private readonly transformer = new EmptyInListTransformer();

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
