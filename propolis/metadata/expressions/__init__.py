"""CEL expressions for business metadata: validation rules, formulas, conditions.

Expressions are written in CEL (Common Expression Language) and parsed with the
``celpy`` parser.  Evaluation is *not* done by celpy: plain CEL refuses mixed
``int * double`` arithmetic, uses binary floats and errors on missing data, all
of which is wrong for business formulas.  Instead the lark parse tree is compiled
once into a tree of small Python closures which is then cheap to run on every
record save.  Python ``eval`` is never used.

Semantics (deliberate differences from plain CEL are marked *)
--------------------------------------------------------------

* Numbers*: every number is a :class:`decimal.Decimal`.  Input ``int`` and
  ``float`` values are converted on read (floats through their shortest
  ``repr``, so ``0.1`` becomes ``Decimal('0.1')``), literals such as ``1.1`` are
  parsed straight to ``Decimal('1.1')``.  Integers and decimals therefore mix
  freely: ``qty * price``, ``price * 1.1`` and ``7 / 2 == 3.5`` all work.
  Arithmetic uses a fixed 28-digit context, independent of the caller's thread
  context.  Functions that CEL types as ``int`` (``size``, ``int``,
  ``days_between``) also return integral Decimals.
* Division or modulo by zero* yields null rather than raising: a formula such as
  ``amount / qty`` on a record whose quantity is still 0 is "not computable
  yet", exactly like a record whose quantity is empty.
* Null propagation*: arithmetic, ordering comparisons (``<`` ...), ``in``,
  field selection, indexing, macros and functions whose input is null yield
  null.  ``==`` / ``!=`` compare null normally (``x == null``).
* Null in a boolean position* (operands of ``||``, ``&&``, ``!``, a ternary
  condition, a macro predicate) counts as false.  ``||`` and ``&&`` short
  circuit and absorb an error on one side when the other side decides the
  result, as in CEL.  A non-boolean, non-null value there is an error.
* Missing data*: an unknown variable, a missing map key, and a list index out
  of range are null instead of errors (records routinely lack optional fields).
* Equality across kinds (``1 == "1"``, ``true == 1``, date vs datetime) is
  false, following CEL's heterogeneous equality.  Ordering across kinds is an
  error: compare a date with ``date(some_datetime)``.
* Dates*: ``date ± n`` shifts by ``n`` whole days.  ``date()``, ``today()`` and
  ``days_between()`` use the evaluator's time zone (default Asia/Shanghai) to
  turn an aware datetime into a calendar date.
* ``has(m.f)`` is true when map ``m`` has key ``f`` with a non-null value.

Runtime type errors (``"a" * 2``) raise :class:`ExpressionError`.  For
validation rules, :func:`evaluate_rule` treats a null result as "passes".

The package, one job per module:

* ``parsing``: CEL text → lark tree (celpy's grammar), syntax errors, literals.
* ``compiler``: tree → closures, with the variables and members read;
  ``CompiledExpression``, ``compile_expression``, ``evaluate_rule``.
* ``values``: the decimal-exact runtime values and operators.
* ``macros``: the runtime of ``map``, ``filter``, ``all`` and the other macros.
* ``functions``: the functions expressions may call.
* ``typecheck``: static types, so validation refuses what can only fail.
* ``activation``: what an expression sees of a record, from the object's
  fields: the variables' types and the options' attributes ``option()`` reads.
"""

from propolis.metadata.expressions.activation import option_attributes
from propolis.metadata.expressions.compiler import (
    CompiledExpression,
    compile_expression,
    evaluate_rule,
)
from propolis.metadata.expressions.values import (
    DEFAULT_TZ,
    ExpressionError,
    OptionTable,
    to_decimal_places,
)

__all__ = [
    "DEFAULT_TZ",
    "CompiledExpression",
    "ExpressionError",
    "OptionTable",
    "compile_expression",
    "evaluate_rule",
    "option_attributes",
    "to_decimal_places",
]
