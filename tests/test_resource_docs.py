"""The Python examples of docs/resources/ stay true to the code they show.

They are what a reader copies into a Pulumi program of their own, and nothing else runs them, so a
renamed argument goes unnoticed (ApiKeyArgs lost `limit=` to `settings=`, and api-key.md went on
showing `limit=`). For each ```python block: it compiles; every name it imports exists; every
name it reads is bound (by an import, an assignment or a builtin); every call of something it
imported binds to that callable's parameters (an `XArgs(...)` dataclass, a resource, a settings
model by its Python field names); a settings model whose arguments are all literals is built for
real, so a value the model refuses fails here; and an attribute read from a resource it made is
one of that resource's outputs. A doc reads top to bottom, so a block sees the imports and
variables of the blocks above it. Read with ast, never run: no Pulumi engine, no network.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import Resource
from pydantic import BaseModel, ValidationError

import providers

ROOT = Path(__file__).resolve().parent.parent
RESOURCE_DOCS = ROOT / "docs" / "resources"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
Namespace = dict[str, Any]


class NotLiteralError(Exception):
    """An argument the test cannot evaluate without running the program (an output, a variable)."""


@dataclass(frozen=True)
class Example:
    """One python block, and the blocks above it in the same doc."""

    name: str
    prelude: str
    block: str

    @property
    def tree(self) -> ast.Module:
        return ast.parse(self.prelude + self.block, filename=self.name)

    def own(self, tree: ast.Module) -> Iterator[ast.AST]:
        """Every node of the block itself, not of its prelude."""
        offset = self.prelude.count("\n")
        for statement in tree.body:
            if statement.lineno > offset:
                yield from ast.walk(statement)

    def line(self, node: ast.expr | ast.stmt) -> int:
        """A node's line number within its block, as a reader of the doc counts."""
        return node.lineno - self.prelude.count("\n")


def examples() -> list[Example]:
    found = []
    for doc in sorted(RESOURCE_DOCS.glob("*.md")):
        blocks = BLOCK.findall(doc.read_text(encoding="utf-8"))
        for n, block in enumerate(blocks, start=1):
            found.append(Example(f"{doc.name}#{n}", "".join(blocks[: n - 1]), block))
    return found


EXAMPLES = examples()
each_example = pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])


def imported(tree: ast.Module) -> Namespace:
    """What the imports bind, by the name they bind; an import that fails fails here."""
    names: Namespace = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                module = importlib.import_module(alias.name)  # `import a.b` binds `a`
                top = alias.name.split(".")[0]
                names[alias.asname or top] = module if alias.asname else sys.modules[top]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "examples import by absolute module path"
            assert node.module, "examples import by absolute module path"
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"`from {node.module} import {alias.name}`"
                names[alias.asname or alias.name] = getattr(module, alias.name)
    return names


def bound(tree: ast.Module) -> set[str]:
    """Every name the code binds: imports, assignment and loop targets, functions, arguments."""
    names = set(imported(tree)) | set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def resolve(node: ast.expr, names: Namespace) -> Any:
    """The object a name or dotted name stands for, or None (a value of the program)."""
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute):
        base = resolve(node.value, names)
        return None if base is None else getattr(base, node.attr, None)
    return None


def is_model(target: Any) -> bool:
    return inspect.isclass(target) and issubclass(target, BaseModel)


def is_resource(target: Any) -> bool:
    return inspect.isclass(target) and issubclass(target, Resource)


def model_signature(model: type[BaseModel]) -> inspect.Signature:
    """A settings model as Python code calls it, by field name (pydantic's own signature shows
    the stack file's camelCase aliases)."""
    return inspect.Signature(
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if info.is_required() else None,
            )
            for name, info in model.model_fields.items()
        ]
    )


def signature_of(target: Any) -> inspect.Signature | None:
    if is_model(target):
        return model_signature(target)
    try:
        return inspect.signature(target)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to compare
        return None


def calls(nodes: Iterable[ast.AST], names: Namespace) -> Iterator[tuple[ast.Call, Any]]:
    """Every call of something imported, with what it calls."""
    for node in nodes:
        if isinstance(node, ast.Call):
            target = resolve(node.func, names)
            if target is not None and callable(target):
                yield node, target


def binding_problem(call: ast.Call, target: Any) -> str | None:
    """Why this call would not bind to the callable's parameters, or None."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        k.arg is None for k in call.keywords
    ):
        return None  # *args / **kwargs: not checkable statically
    signature = signature_of(target)
    if signature is None:
        return None
    try:
        signature.bind(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
    except TypeError as error:
        return f"{ast.unparse(call.func)}(...): {error}"
    return None


def literal(node: ast.expr, names: Namespace) -> Any:
    """The value of a literal argument, settings models included; NotLiteralError otherwise."""
    if isinstance(node, ast.Call):
        target = resolve(node.func, names)
        if not is_model(target) or node.args:
            raise NotLiteralError
        return target(**{k.arg: literal(k.value, names) for k in node.keywords if k.arg})
    if isinstance(node, ast.List):
        return [literal(item, names) for item in node.elts]
    if isinstance(node, ast.Dict) and None not in node.keys:
        return {
            literal(k, names): literal(v, names)
            for k, v in zip(node.keys, node.values, strict=True)
            if k is not None
        }
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise NotLiteralError from None


def model_refusals(nodes: Iterable[ast.AST], names: Namespace) -> Iterator[tuple[ast.Call, str]]:
    """Each settings model called with literals only that refuses them, with pydantic's words."""
    for call, target in calls(nodes, names):
        if is_model(target):
            try:
                literal(call, names)
            except NotLiteralError:
                continue
            except ValidationError as error:
                yield call, f"{error.title}: {error}"


def resource_variables(tree: ast.Module, names: Namespace) -> dict[str, type[Resource]]:
    """`x = Guardrail(...)`: the variables that hold a resource the code made."""
    found: dict[str, type[Resource]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            target = resolve(node.value.func, names)
            if is_resource(target):
                for variable in node.targets:
                    if isinstance(variable, ast.Name):
                        found[variable.id] = target
    return found


def outputs_of(resource: type[Resource]) -> set[str]:
    """The outputs a resource class declares, and what every resource has (`id`, `urn`).

    Read from the source: the project's resources declare them under `if TYPE_CHECKING:`, so
    that the SDK does not evaluate them on every registration."""
    declared = {name for cls in resource.__mro__ for name in vars(cls).get("__annotations__", {})}
    body = ast.parse(textwrap.dedent(inspect.getsource(resource))).body[0]
    assert isinstance(body, ast.ClassDef)
    statements = [
        statement
        for node in body.body
        for statement in (node.body if isinstance(node, ast.If) else [node])
    ]
    declared |= {
        node.target.id
        for node in statements
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    }
    return declared | {"id", "urn"}


def unbound_names(example: Example) -> list[str]:
    tree = example.tree
    known = bound(tree)
    return [
        f"line {example.line(node)}: {node.id}"
        for node in example.own(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in known
    ]


def binding_problems(example: Example) -> list[str]:
    tree = example.tree
    return [
        f"line {example.line(call)}: {problem}"
        for call, target in calls(example.own(tree), imported(tree))
        if (problem := binding_problem(call, target)) is not None
    ]


def refused_settings(example: Example) -> list[str]:
    tree = example.tree
    return [
        f"line {example.line(call)}: {why}"
        for call, why in model_refusals(example.own(tree), imported(tree))
    ]


def unknown_attributes(example: Example) -> list[str]:
    tree = example.tree
    variables = resource_variables(tree, imported(tree))
    return [
        f"line {example.line(node)}: {node.value.id}.{node.attr}"
        for node in example.own(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in variables
        and node.attr not in outputs_of(variables[node.value.id])
    ]


# --- the examples ------------------------------------------------------------------------------


def test_every_resource_doc_has_examples_and_every_resource_is_shown():
    """A resource added to `providers` without a doc example fails here."""
    docs = {example.name.split("#")[0] for example in EXAMPLES}
    assert docs == {doc.name for doc in RESOURCE_DOCS.glob("*.md")}
    assert {"api-key.md", "guardrail.md", "workspace.md"} <= docs
    resources = {name for name in providers.__all__ if is_resource(getattr(providers, name))}
    assert resources >= {"ApiKey", "Guardrail", "GuardrailAssignment", "Workspace"}
    made: set[str] = set()
    for example in EXAMPLES:
        tree = example.tree
        made |= {t.__name__ for _, t in calls(example.own(tree), imported(tree)) if is_resource(t)}
    assert resources - made == set(), "resources no example constructs"


@each_example
def test_the_example_compiles_and_imports_what_exists(example):
    compile(example.block, example.name, "exec")
    imported(example.tree)


CHECKS = {
    "reads an unbound name": unbound_names,
    "calls with arguments that do not bind": binding_problems,
    "writes settings their model refuses": refused_settings,
    "reads an attribute that is no output": unknown_attributes,
}


@each_example
@pytest.mark.parametrize("check", CHECKS)
def test_the_example_passes_the_check(example, check):
    assert CHECKS[check](example) == [], f"{example.name} {check}"


# --- the checks find what they look for -----------------------------------------------------------

STALE = Example(
    "stale.md#2",
    prelude='from providers.key import ApiKey, ApiKeyArgs\nold = ApiKeyArgs(name="o", limit=1)\n',
    block="""from providers import GuardrailPolicy, WorkspaceBudgetsArgs, BudgetLimits
key = ApiKey("ci", ApiKeyArgs(name="ci", limit=25))
policy = GuardrailPolicy(limit_usd=5)
budgets = WorkspaceBudgetsArgs(workspace_id="w", limits=BudgetLimits(monthly=1, weekly=2))
print(key.label, key.secret, os.environ["X"])
""",
)


def test_each_check_finds_its_mistake_in_a_stale_example():
    """Not vacuous: a block written against an older API fails each check. Its prelude's names
    are in scope (`ApiKey`), its prelude's mistakes are not reported again (`old = ...`)."""
    assert unbound_names(STALE) == ["line 5: os"]
    assert binding_problems(STALE) == [
        "line 2: ApiKeyArgs(...): got an unexpected keyword argument 'limit'"
    ]
    assert [why.split(":")[1].strip() for why in refused_settings(STALE)] == [
        "GuardrailPolicy",
        "BudgetLimits",
    ]
    assert unknown_attributes(STALE) == ["line 5: key.secret"]


def test_a_missing_import_is_caught():
    with pytest.raises(AssertionError, match="import NoSuchArgs"):
        imported(ast.parse("from providers import NoSuchArgs\n"))


def test_pulumi_calls_are_checked_too():
    tree = ast.parse("import pulumi\npulumi.export('a', 1, 2)\n")
    [(call, target)] = list(calls(ast.walk(tree), imported(tree)))
    assert target is pulumi.export
    assert binding_problem(call, target) is not None


def test_the_destination_doc_lists_each_types_required_config_keys():
    """A user learns what `datadog` needs from the page, not from a refused preview."""
    from providers.observability import REQUIRED_CONFIG  # noqa: PLC0415 - this test only

    text = (ROOT / "docs" / "resources" / "observability-destination.md").read_text("utf-8")
    for type_, required in REQUIRED_CONFIG.items():
        row = f"| `{type_}` | {', '.join(f'`{key}`' for key in required)} |"
        assert row in text, row
