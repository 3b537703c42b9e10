"""Least privilege, proven: each function's role against the AWS calls its code can make.

The calls are collected from the code, not from a hand-kept list. For each function of
``template.yaml`` the analysis starts at its handler module (``functions/<name>/app.py``), follows the
ecsguard code it can reach (module-level imports, function-level imports, every function, class or
module attribute a reachable piece of code names, and the functions a registry decorator files away
once the registry itself is reachable), and in that code collects every boto3 call:

* ``clients("svc", ...).operation(...)`` and ``self._clients("svc", ...).operation(...)``;
* ``client.operation(...)`` on a name or ``self.<attribute>`` bound from such a call, also when the
  client is passed to (or returned from) another function;
* ``<client>.get_paginator("operation_name")``;
* Powertools' DynamoDB idempotency: its persistence layer is analysed the same way, from its source.

Each snake_case operation becomes its IAM action with botocore's service models. Two assertions per
function: every action the code can call is allowed by the function's role, and every action the role
allows is called by the code, implied by a call (``IMPLIED``) or in the short list of ``EXTRAS`` that
Lambda itself needs. A self-test runs the same analysis on a tiny synthetic package and template.
"""

from __future__ import annotations

import ast
import copy
import fnmatch
import functools
import importlib.util
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from test_template import as_list, load_template, role_id, role_statements

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "ecsguard" / "ecsguard"

# IAM's service prefix where it differs from the botocore model's signing name.
IAM_PREFIX = {"cloudwatch": "cloudwatch", "resourcegroupstaggingapi": "tag"}  # signing names "monitoring", "tagging"
# Operations IAM never authorizes.
NO_PERMISSION = {"sts:GetCallerIdentity"}  # "No permissions are required" (STS API reference)

# Actions a call needs besides its own, by (service, operation, keyword argument): None means with
# every such call. A call made with ``**request`` may carry any keyword, so it needs all of them.
IMPLIED: list[tuple[str, str, str | None, tuple[str, ...], str]] = [
    ("logs", "CreateLogGroup", "tags", ("logs:TagResource",),
     "CreateLogGroup API reference: tags on create need logs:TagResource (or the deprecated logs:TagLogGroup)"),
    ("ecs", "RegisterTaskDefinition", "tags", ("ecs:TagResource",),
     "ECS developer guide, 'Grant permission to tag resources on creation': tags on create need ecs:TagResource"),
    ("ecs", "RegisterTaskDefinition", "taskRoleArn", ("iam:PassRole",), "the new revision names a task role"),
    ("ecs", "RegisterTaskDefinition", "executionRoleArn", ("iam:PassRole",), "the new revision names an execution role"),
    ("ecs", "DescribeTaskDefinition", "include", ("ecs:ListTagsForResource",),
     "include=TAGS (the ecsguard:ignore tag): not stated in the API reference, kept so the tags never go"
     " missing silently; granted on task definitions of this account only"),
    ("secretsmanager", "CreateSecret", "Tags", ("secretsmanager:TagResource",),
     "CreateSecret API reference: tags on create need secretsmanager:TagResource"),
    ("ssm", "PutParameter", "Tags", ("ssm:AddTagsToResource",),
     "tags on create need ssm:AddTagsToResource (as for AWS::SSM::Parameter)"),
    # Data-plane KMS use the service makes with the caller's permissions (kms:ViaService). No call in
    # the code: a KMS-encrypted topic, or a customer managed key chosen for migrated secrets.
    ("sns", "Publish", None, ("kms:GenerateDataKey", "kms:Decrypt"),
     "publishing to a KMS-encrypted topic (SNS encrypts with the publisher's permissions)"),
    ("secretsmanager", "CreateSecret", "KmsKeyId", ("kms:GenerateDataKey", "kms:Decrypt"),
     "Secrets Manager encrypts the value with the customer managed key, as the caller"),
    ("secretsmanager", "PutSecretValue", None, ("kms:GenerateDataKey", "kms:Decrypt"),
     "a new version of a secret encrypted with a customer managed key"),
    ("ssm", "PutParameter", "KeyId", ("kms:Encrypt", "kms:GenerateDataKey"),
     "SecureString with a customer managed key: Encrypt (standard tier), GenerateDataKey (advanced tier)"),
    ("ssm", "GetParameter", "WithDecryption", ("kms:Decrypt",), "reading a SecureString back to roll it back"),
]  # fmt: skip

# What the role may allow with no call in the code: what Lambda itself does with the function's role.
EXTRAS = {
    "logs:CreateLogStream": "Lambda writes the function's own log (its log group only)",
    "logs:PutLogEvents": "Lambda writes the function's own log (its log group only)",
    "sqs:SendMessage": "Lambda sends failed asynchronous invocations to the function's DeadLetterQueue",
}

# Third-party classes that call AWS with a client they are given or build: analysed from their source.
ANALYSED_EXTERNAL = {"aws_lambda_powertools.utilities.idempotency.DynamoDBPersistenceLayer"}
# Libraries that call AWS in ways this analysis does not follow: reaching one fails the test.
UNMODELLED_EXTERNAL = (
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.utilities.feature_flags",
    "aws_lambda_powertools.utilities.streaming",
    "aws_lambda_powertools.utilities.data_masking",
    "boto3.resource",
    "boto3.dynamodb.table",
    "aioboto3",
)
CLIENT_HELPERS = {"can_paginate", "close"}  # client methods that are no AWS call
CLIENT_FACTORIES = {"clients", "_clients", "client"}  # Clients(...) instances, boto3/session .client()

_BOTOCORE = botocore.session.get_session()


@dataclass(frozen=True)
class Call:
    service: str
    operation: str  # the API operation name (CamelCase)
    where: str  # path:line
    keywords: frozenset[str]
    splat: bool  # called with **kwargs: any keyword may be present

    @property
    def action(self) -> str:
        prefix = IAM_PREFIX.get(self.service) or _BOTOCORE.get_service_model(self.service).signing_name
        return f"{prefix}:{self.operation}"


@functools.cache
def service_operations(service: str) -> dict[str, str]:
    """snake_case -> CamelCase operation names of a botocore service (empty for an unknown service)."""
    try:
        model = _BOTOCORE.get_service_model(service)
    except Exception:  # botocore.exceptions.UnknownServiceError
        return {}
    return {botocore.xform_name(name): name for name in model.operation_names}


# --------------------------------------------------------------------------- the code model


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool
    defs: dict[str, ast.AST] = field(default_factory=dict)  # top-level functions and classes
    variables: set[str] = field(default_factory=set)  # top-level assigned names
    imports: dict[str, tuple[str, ...]] = field(default_factory=dict)  # module-level bindings

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


Unit = tuple[str, str | None]  # (module, top-level name); None: the module's own top-level code


def _top_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Top-level statements, looking into if/try/with blocks (still module level), not into defs."""
    for statement in body:
        if isinstance(statement, (ast.If, ast.Try, ast.With)):
            for block in ("body", "orelse", "finalbody"):
                yield from _top_statements(getattr(statement, block, []) or [])
            for handler in getattr(statement, "handlers", []) or []:
                yield from _top_statements(handler.body)
        else:
            yield statement


class CodeModel:
    """The modules of one package (``package_dir``) plus handler modules, and what reaches what."""

    def __init__(self, package_dir: Path) -> None:
        self.package_dir = package_dir
        self.modules: dict[str, Module] = {}
        self.problems: list[str] = []  # code the analysis cannot follow: each one fails the test
        for path in sorted(package_dir.rglob("*.py")):
            relative = path.relative_to(package_dir.parent).with_suffix("")
            parts = list(relative.parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            self._add(".".join(parts), path, is_package, bind=False)
        for module in self.modules.values():  # once every module is known: imports name modules or symbols
            self._bind_imports(module)

    def _bind_imports(self, module: Module) -> None:
        for statement in _top_statements(module.tree.body):
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                module.imports.update(self._bindings(module, statement))

    def _add(self, name: str, path: Path, is_package: bool, *, bind: bool = True) -> Module:
        module = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)), is_package)
        for statement in _top_statements(module.tree.body):
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                module.defs[statement.name] = statement
            elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    for node in ast.walk(target):
                        if isinstance(node, ast.Name):
                            module.variables.add(node.id)
        self.modules[name] = module
        if bind:
            self._bind_imports(module)
        return module

    def add_handler(self, path: Path) -> str:
        name = f"<handler {path.parent.name}>"
        self._add(name, path, False)
        return name

    # ------------------------------------------------------------------ names

    def _absolute(self, module: Module, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = module.package.split(".")
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def _bindings(self, module: Module, node: ast.Import | ast.ImportFrom) -> dict[str, tuple[str, ...]]:
        """name -> ("module", m) | ("symbol", m, attr) | ("external", dotted)."""
        bound: dict[str, tuple[str, ...]] = {}
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    bound[alias.asname] = self._module_or_external(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    bound[top] = self._module_or_external(top)
            return bound
        source = self._absolute(module, node)
        for alias in node.names:
            if alias.name == "*":
                self.problems.append(f"{module.path}:{node.lineno}: star import from {source}")
                continue
            submodule = f"{source}.{alias.name}"
            if submodule in self.modules:
                bound[alias.asname or alias.name] = ("module", submodule)
            elif source in self.modules:
                bound[alias.asname or alias.name] = ("symbol", source, alias.name)
            else:
                bound[alias.asname or alias.name] = ("external", submodule)
        return bound

    def _module_or_external(self, dotted: str) -> tuple[str, ...]:
        return ("module", dotted) if dotted in self.modules else ("external", dotted)

    def imported_modules(self, module: Module, node: ast.Import | ast.ImportFrom) -> set[str]:
        """The package's modules an import statement runs (with their parent packages)."""
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            source = self._absolute(module, node)
            names = [source] + [f"{source}.{alias.name}" for alias in node.names]
        found = set()
        for name in names:
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                if ".".join(parts[:i]) in self.modules:
                    found.add(".".join(parts[:i]))
        return found

    def resolve_symbol(self, module_name: str, name: str, seen: frozenset = frozenset()) -> tuple[str, ...] | None:
        """What ``module.name`` is: ("unit", m, name) | ("var", m, name) | ("module", m) | ("external", d)."""
        if (module_name, name) in seen:
            return None
        module = self.modules.get(module_name)
        if module is None:
            return None
        if name in module.defs:
            return ("unit", module_name, name)
        if name in module.imports:
            return self.resolve_binding(module.imports[name], seen | {(module_name, name)})
        if name in module.variables:
            return ("var", module_name, name)
        if f"{module_name}.{name}" in self.modules:
            return ("module", f"{module_name}.{name}")
        return None

    def resolve_binding(self, binding: tuple[str, ...], seen: frozenset = frozenset()) -> tuple[str, ...] | None:
        if binding[0] == "symbol":
            return self.resolve_symbol(binding[1], binding[2], seen)
        return binding

    def resolve(self, module: Module, expr: ast.expr, local: dict[str, tuple[str, ...]]) -> tuple[str, ...] | None:
        """What a name or dotted attribute refers to, from a unit with local (function-level) imports."""
        if isinstance(expr, ast.Name):
            if expr.id in local:
                return self.resolve_binding(local[expr.id])
            return self.resolve_symbol(module.name, expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.resolve(module, expr.value, local)
            if base is None:
                return None
            if base[0] == "module":
                return self.resolve_symbol(base[1], expr.attr)
            if base[0] == "external":
                return ("external", f"{base[1]}.{expr.attr}")
        return None

    # ------------------------------------------------------------------ units

    def unit_nodes(self, unit: Unit) -> list[ast.AST]:
        module = self.modules[unit[0]]
        if unit[1] is not None:
            return [module.defs[unit[1]]]
        return [s for s in _top_statements(module.tree.body) if s not in module.defs.values()]

    def local_imports(self, unit: Unit) -> dict[str, tuple[str, ...]]:
        if unit[1] is None:
            return {}
        module = self.modules[unit[0]]
        local: dict[str, tuple[str, ...]] = {}
        for node in ast.walk(module.defs[unit[1]]):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                local.update(self._bindings(module, node))
        return local

    def registry_variables(self, unit: Unit) -> set[str]:
        """Module-level names a decorator function files its argument into (``REGISTRY[key] = f``)."""
        module = self.modules[unit[0]]
        found = set()
        for node in ast.walk(module.defs[unit[1]]):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                target = node.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in {"append", "add", "update", "setdefault", "extend", "insert"}
            ):
                target = node.func.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in module.variables:
                found.add(target.id)
        return found

    def edges(self, unit: Unit) -> tuple[set[Unit], set[str]]:
        """The units a unit can make run, and the external names it uses."""
        module = self.modules[unit[0]]
        local = self.local_imports(unit)
        targets: set[Unit] = set()
        external: set[str] = set()
        for root in self.unit_nodes(unit):
            for node in ast.walk(root):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    targets |= {(name, None) for name in self.imported_modules(module, node)}
                    for binding in self._bindings(module, node).values():
                        if binding[0] == "external":
                            external.add(binding[1])
                elif isinstance(node, (ast.Name, ast.Attribute)) and isinstance(node.ctx, ast.Load):
                    found = self.resolve(module, node, local)
                    if found is None:
                        continue
                    if found[0] == "unit":
                        targets.add((found[1], found[2]))
                    elif found[0] == "var":
                        targets.add((found[1], f"<var {found[2]}>"))
                    elif found[0] == "module":
                        targets.add((found[1], None))
                    elif found[0] == "external":
                        external.add(found[1])
                elif isinstance(node, ast.Call) and self._is_import_module(node):
                    targets |= self._dynamic_import(module, node)
        return targets, external

    @staticmethod
    def _is_import_module(node: ast.Call) -> bool:
        func = node.func
        return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
            isinstance(func, ast.Name) and func.id in {"import_module", "__import__"}
        )

    def _dynamic_import(self, module: Module, node: ast.Call) -> set[Unit]:
        argument = node.args[0] if node.args else None
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str) and argument.value in self.modules:
            return {(argument.value, None)}
        if (
            isinstance(argument, ast.JoinedStr)
            and len(argument.values) >= 2
            and isinstance(argument.values[0], ast.FormattedValue)
            and isinstance(argument.values[0].value, ast.Name)
            and argument.values[0].value.id == "__name__"
            and isinstance(argument.values[1], ast.Constant)
            and str(argument.values[1].value).startswith(".")
        ):
            # f"{__name__}.{x}": any module of this package
            return {(name, None) for name in self.modules if name.startswith(module.name + ".")}
        self.problems.append(f"{module.path}:{node.lineno}: dynamic import this analysis cannot follow")
        return set()

    def reachable(self, start: str) -> tuple[set[Unit], set[str]]:
        """Every unit the handler module ``start`` can make run, and the external names they use."""
        registries: dict[tuple[str, str], set[Unit]] = defaultdict(set)
        for module in self.modules.values():
            for name, node in module.defs.items():
                for decorator in getattr(node, "decorator_list", []):
                    target = self.resolve(module, decorator.func if isinstance(decorator, ast.Call) else decorator, {})
                    if target and target[0] == "unit":
                        for variable in self.registry_variables((target[1], target[2])):
                            registries[(target[1], f"<var {variable}>")].add((module.name, name))
        seen: set[Unit] = set()
        external: set[str] = set()
        todo: list[Unit] = [(start, None)]
        while todo:
            unit = todo.pop()
            if unit in seen:
                continue
            seen.add(unit)
            if unit[1] is not None and unit[1].startswith("<var "):
                todo.extend(registries.get(unit, ()))  # a reachable registry: what was filed into it
                continue
            targets, used = self.edges(unit)
            external |= used
            todo.extend(targets - seen)
        return {u for u in seen if u[1] is None or not u[1].startswith("<var ")}, external


# --------------------------------------------------------------------------- boto3 calls


@dataclass
class Scope:
    """One function (or lambda, or a module's top-level code): the names bound to clients in it."""

    module: Module
    parent: Scope | None
    class_key: tuple[str, str] | None  # (module, class) when a method
    params: list[str]
    own: list[ast.AST] = field(default_factory=list)  # its nodes, not those of nested functions
    children: dict[str, Scope] = field(default_factory=dict)  # nested functions by name
    env: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    returns: set[str] = field(default_factory=set)
    lambda_body: ast.expr | None = None


def _own_nodes(node: ast.AST, nested: list[ast.AST]) -> Iterator[ast.AST]:
    """The nodes under ``node`` outside nested functions and classes (collected into ``nested``)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            nested.append(child)
            # defaults and decorators run in the enclosing scope
            for expr in [*child.args.defaults, *child.args.kw_defaults, *getattr(child, "decorator_list", [])]:
                if expr is not None:
                    yield from ast.walk(expr)
            continue
        if isinstance(child, ast.ClassDef):
            continue
        yield child
        yield from _own_nodes(child, nested)


class CallCollector:
    """The boto3 calls of a set of units, following clients through names, attributes, calls and returns."""

    def __init__(self, model: CodeModel, units: Iterable[Unit]) -> None:
        self.model = model
        self.scopes: list[Scope] = []
        self.by_node: dict[int, Scope] = {}
        self.class_env: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self.unresolved: dict[str, None] = {}
        self.seen_services: set[str] = set()
        for unit in sorted(units, key=str):
            self._scopes_of(unit)

    def _scopes_of(self, unit: Unit) -> None:
        module = self.model.modules[unit[0]]
        if unit[1] is None:
            root = Scope(module, None, None, [])
            nested: list[ast.AST] = []
            for statement in self.model.unit_nodes(unit):
                root.own.append(statement)
                root.own.extend(_own_nodes(statement, nested))
            self.scopes.append(root)
            for child in nested:
                self._function(child, module, root, None)
            return
        node = module.defs[unit[1]]
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    self._function(item, module, None, (module.name, node.name))
        else:
            self._function(node, module, None, None)

    def _function(self, node: ast.AST, module: Module, parent: Scope | None, class_key: tuple[str, str] | None):
        args = node.args  # type: ignore[attr-defined]
        params = [a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
        scope = Scope(module, parent, class_key, params)
        nested: list[ast.AST] = []
        if isinstance(node, ast.Lambda):
            scope.own = [node.body, *_own_nodes(node.body, nested)]
            scope.lambda_body = node.body
        else:
            for statement in node.body:  # type: ignore[attr-defined]
                scope.own.append(statement)
                scope.own.extend(_own_nodes(statement, nested))
        self.scopes.append(scope)
        self.by_node[id(node)] = scope
        if parent is not None and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parent.children[node.name] = scope
        for child in nested:
            self._function(child, module, scope, class_key)

    # ------------------------------------------------------------------ values

    def _string(self, scope: Scope, expr: ast.expr) -> str | None:
        """A string literal, or a module-level string constant it names (also one imported)."""
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return expr.value
        found = self.model.resolve(scope.module, expr, {}) if isinstance(expr, (ast.Name, ast.Attribute)) else None
        if found and found[0] == "var":
            for statement in _top_statements(self.model.modules[found[1]].tree.body):
                if (
                    isinstance(statement, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == found[2] for t in statement.targets)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                ):
                    return statement.value.value
        return None

    def _factory_service(self, scope: Scope, call: ast.Call) -> str | None:
        func = call.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name == "resource" and call.args and service_operations(self._string(scope, call.args[0]) or ""):
            self.unresolved[f"{self._where(scope, call)}: a boto3 resource, which this analysis does not follow"] = None
            return None
        if name not in CLIENT_FACTORIES or not call.args:
            return None
        service = self._string(scope, call.args[0])
        if service is None:
            if scope.module.name.rpartition(".")[2] == "clients":
                return None  # the factory itself: Clients.__call__(service, ...)
            self.unresolved[f"{self._where(scope, call)}: client of a service this analysis cannot read"] = None
            return None
        if not service_operations(service):
            self.unresolved[f"{self._where(scope, call)}: {service!r} is no botocore service"] = None
            return None
        self.seen_services.add(service)
        return service

    def services(self, scope: Scope, expr: ast.expr | None) -> set[str]:
        """The services whose client ``expr`` can be."""
        if expr is None:
            return set()
        if isinstance(expr, ast.Call):
            service = self._factory_service(scope, expr)
            if service:
                return {service}
            callee = self._callee(scope, expr)
            return set(callee[0].returns) if callee else set()
        if isinstance(expr, ast.Name):
            current: Scope | None = scope
            while current is not None:
                if expr.id in current.env:
                    return set(current.env[expr.id])
                current = current.parent
            return set()
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id in {"self", "cls"}:
            return self._attribute_services(scope, expr.attr)
        if isinstance(expr, ast.IfExp):
            return self.services(scope, expr.body) | self.services(scope, expr.orelse)
        if isinstance(expr, ast.BoolOp):
            return set().union(*(self.services(scope, value) for value in expr.values))
        if isinstance(expr, ast.NamedExpr):
            return self.services(scope, expr.value)
        return set()

    def _classes(self, class_key: tuple[str, str]) -> list[tuple[str, str]]:
        """A class and its bases within the analysed code."""
        todo, seen = [class_key], []
        while todo:
            key = todo.pop()
            if key in seen or key[0] not in self.model.modules:
                continue
            seen.append(key)
            module = self.model.modules[key[0]]
            node = module.defs.get(key[1])
            if isinstance(node, ast.ClassDef):
                for base in node.bases:
                    found = self.model.resolve(module, base, {})
                    if found and found[0] == "unit":
                        todo.append((found[1], found[2]))
        return seen

    def _attribute_services(self, scope: Scope, attribute: str) -> set[str]:
        if scope.class_key is None:
            return set()
        found: set[str] = set()
        for key, env in list(self.class_env.items()):
            # the class itself, its bases, and subclasses (a class that sets the attribute for its mixins)
            if key in self._classes(scope.class_key) or scope.class_key in self._classes(key):
                found |= env.get(attribute, set())
        return found

    def _callee(self, scope: Scope, call: ast.Call) -> tuple[Scope, bool] | None:
        """The analysed function a call runs, and whether it is bound (self./cls. skips a parameter)."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in {"self", "cls"}:
            for key in self._classes(scope.class_key) if scope.class_key else []:
                node = self.model.modules[key[0]].defs.get(key[1])
                for item in getattr(node, "body", []):
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == func.attr:
                        target = self.by_node.get(id(item))
                        return (target, True) if target else None
            return None
        if isinstance(func, ast.Name):  # a function nested in an enclosing scope
            current: Scope | None = scope
            while current is not None:
                if func.id in current.children:
                    return current.children[func.id], False
                current = current.parent
        found = self.model.resolve(scope.module, func, {}) if isinstance(func, (ast.Name, ast.Attribute)) else None
        if found and found[0] == "unit":
            target = self.by_node.get(id(self.model.modules[found[1]].defs[found[2]]))
            return (target, False) if target else None
        return None

    # ------------------------------------------------------------------ propagation

    def _bind(self, scope: Scope, target: ast.expr | str, services: set[str]) -> bool:
        if not services:
            return False
        if isinstance(target, str):
            env, key = scope.env, target
        elif isinstance(target, ast.Name):
            env, key = scope.env, target.id
        elif (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id == "self"
            and scope.class_key
        ):
            env, key = self.class_env[scope.class_key], target.attr
        else:
            return False
        before = len(env[key])
        env[key] |= services
        return len(env[key]) != before

    def _pass(self, scope: Scope) -> bool:
        changed = False
        for node in scope.own:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    changed |= self._bind(scope, target, self.services(scope, node.value))
            elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
                changed |= self._bind(scope, node.target, self.services(scope, node.value))
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                changed |= self._bind(scope, node.optional_vars, self.services(scope, node.context_expr))
            elif isinstance(node, ast.Return):
                before = len(scope.returns)
                scope.returns |= self.services(scope, node.value)
                changed |= len(scope.returns) != before
            elif isinstance(node, ast.Call):
                callee = self._callee(scope, node)
                if callee is None:
                    continue
                target, bound = callee
                params = target.params[1:] if bound else target.params
                for index, argument in enumerate(node.args):
                    if index < len(params) and not isinstance(argument, ast.Starred):
                        changed |= self._bind(target, params[index], self.services(scope, argument))
                for keyword in node.keywords:
                    if keyword.arg in target.params:
                        changed |= self._bind(target, keyword.arg, self.services(scope, keyword.value))
        if scope.lambda_body is not None:
            before = len(scope.returns)
            scope.returns |= self.services(scope, scope.lambda_body)
            changed |= len(scope.returns) != before
        return changed

    def _where(self, scope: Scope, node: ast.AST) -> str:
        path = scope.module.path
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        return f"{shown}:{getattr(node, 'lineno', '?')}"

    def calls(self) -> list[Call]:
        for _ in range(100):
            if not any([self._pass(scope) for scope in self.scopes]):
                break
        else:  # pragma: no cover
            raise AssertionError("client propagation did not settle")
        found: list[Call] = []
        for scope in self.scopes:
            for node in scope.own:
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    found.extend(self._operation(scope, node))
        self._lost_clients()
        return found

    def _lost_clients(self) -> None:
        """``x.describe_images(...)`` on something not tied to a client: a client the analysis lost track of
        (kept in a dict, passed through an object...). Names of every operation of the services the code
        makes clients of."""
        operations: set[str] = set()
        for service in self.seen_services:
            operations |= set(service_operations(service))
        for scope in self.scopes:
            for node in scope.own:
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                if node.func.attr not in operations or self.services(scope, node.func.value):
                    continue
                receiver = node.func.value
                found = (
                    self.model.resolve(scope.module, receiver, {})
                    if isinstance(receiver, ast.Name | ast.Attribute)
                    else None
                )
                if found and found[0] in {"module", "unit"}:
                    continue  # one of the package's own functions (actions.stop_task(...))
                self.unresolved[
                    f"{self._where(scope, node)}: {ast.unparse(node.func)}(...) looks like an AWS call on something "
                    "this analysis cannot tie to a client"
                ] = None

    def _operation(self, scope: Scope, node: ast.Call) -> list[Call]:
        assert isinstance(node.func, ast.Attribute)
        services = self.services(scope, node.func.value)
        if not services:
            return []
        method = node.func.attr
        if method in CLIENT_HELPERS:
            return []
        keywords = frozenset(k.arg for k in node.keywords if k.arg)
        splat = any(k.arg is None for k in node.keywords)
        if method == "get_paginator":
            name = self._string(scope, node.args[0]) if node.args else None
            if name is None:
                self.unresolved[f"{self._where(scope, node)}: get_paginator of an operation it cannot read"] = None
                return []
            method, keywords, splat = name, frozenset(), True  # paginate(**request) takes the call's arguments
        result = []
        for service in sorted(services):
            operation = service_operations(service).get(method)
            if operation:
                result.append(Call(service, operation, self._where(scope, node), keywords, splat))
        if not result:
            self.unresolved[f"{self._where(scope, node)}: {method} is no operation of {sorted(services)}"] = None
        return result


def _external_class(dotted: str) -> tuple[CodeModel, Unit] | None:
    module_name, _, class_name = dotted.rpartition(".")
    try:
        spec = importlib.util.find_spec(module_name)
    except ModuleNotFoundError:
        return None
    if spec is None or spec.origin is None:
        return None
    model = CodeModel.__new__(CodeModel)
    model.package_dir, model.modules, model.problems = Path(spec.origin).parent, {}, []
    module = model._add(module_name, Path(spec.origin), spec.origin.endswith("__init__.py"))
    if class_name not in module.defs:
        # re-exported: follow the import to the defining module
        binding = module.imports.get(class_name)
        if binding and binding[0] == "external":
            return _external_class(binding[1])
        return None
    return model, (module_name, class_name)


@dataclass
class FunctionCalls:
    calls: list[Call]
    problems: list[str]

    def actions(self) -> dict[str, list[str]]:
        """IAM action -> where (path:line, and why for implied ones) it is needed."""
        needed: dict[str, list[str]] = defaultdict(list)
        for call in self.calls:
            if call.action not in NO_PERMISSION:
                needed[call.action].append(call.where)
            for service, operation, keyword, actions, why in IMPLIED:
                if (call.service, call.operation) == (service, operation) and (
                    keyword is None or keyword in call.keywords or call.splat
                ):
                    for action in actions:
                        needed[action].append(f"{call.where} ({why})")
        return dict(needed)


def collect(model: CodeModel, handler: Path) -> FunctionCalls:
    start = model.add_handler(handler)
    units, external = model.reachable(start)
    collector = CallCollector(model, units)
    calls = collector.calls()
    problems = list(model.problems) + list(collector.unresolved)
    for dotted in sorted(external):
        if any(dotted == prefix or dotted.startswith(prefix + ".") for prefix in UNMODELLED_EXTERNAL):
            problems.append(f"reaches {dotted}, which calls AWS in a way this analysis does not follow")
        if dotted in ANALYSED_EXTERNAL:
            found = _external_class(dotted)
            if found is None:
                problems.append(f"cannot read the source of {dotted}")
                continue
            external_model, unit = found
            external_collector = CallCollector(external_model, [unit])
            calls.extend(external_collector.calls())
            problems.extend(external_collector.unresolved)
    return FunctionCalls(calls, problems)


# --------------------------------------------------------------------------- the role side


def granted(template: dict[str, Any], function_id: str) -> set[str]:
    """Action patterns an Allow statement of the function's role grants (under any condition)."""
    role = role_id(template["Resources"][function_id], template)
    assert role is not None, f"{function_id} has no role of its own"
    return {
        action
        for statement, _ in role_statements(template, role)
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }


def _matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def compare(template: dict[str, Any], function_id: str, found: FunctionCalls) -> tuple[dict, set[str]]:
    """(actions the code needs that the role does not allow -> where, allowed actions nothing needs)."""
    allowed = granted(template, function_id)
    needed = found.actions()
    missing = {action: where for action, where in needed.items() if not any(_matches(p, action) for p in allowed)}
    extras = set(EXTRAS)
    properties = template["Resources"][function_id]["Properties"]
    if "DeadLetterQueue" not in properties:
        extras.discard("sqs:SendMessage")
    unused = {p for p in allowed if p not in extras and not any(_matches(p, action) for action in needed)}
    return missing, unused


def handler_path(template: dict[str, Any], function_id: str) -> Path:
    properties = template["Resources"][function_id]["Properties"]
    return ROOT / properties["CodeUri"] / (properties["Handler"].split(".")[0] + ".py")


def report(function_id: str, found: FunctionCalls, missing: dict, unused: set[str]) -> str:
    lines = [f"{function_id}:"]
    for action, where in sorted(missing.items()):
        lines.append(f"  called but not allowed: {action} ({'; '.join(sorted(set(where))[:3])})")
    for action in sorted(unused):
        lines.append(f"  allowed but never called: {action}")
    lines.extend(f"  cannot analyse: {problem}" for problem in found.problems)
    return "\n".join(lines)


# --------------------------------------------------------------------------- tests

TEMPLATE = load_template()
FUNCTION_IDS = sorted(
    logical_id for logical_id, r in TEMPLATE["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
)


@pytest.fixture(scope="module")
def analysed() -> dict[str, FunctionCalls]:
    if str(PACKAGE.parent) not in sys.path:
        sys.path.insert(0, str(PACKAGE.parent))
    return {
        function_id: collect(CodeModel(PACKAGE), handler_path(TEMPLATE, function_id)) for function_id in FUNCTION_IDS
    }


@pytest.mark.parametrize("function_id", FUNCTION_IDS)
def test_role_allows_exactly_what_the_code_calls(function_id: str, analysed: dict[str, FunctionCalls]) -> None:
    found = analysed[function_id]
    missing, unused = compare(TEMPLATE, function_id, found)
    assert not missing and not unused and not found.problems, report(function_id, found, missing, unused)


def test_the_analysis_sees_the_calls_each_flow_is_known_for(analysed: dict[str, FunctionCalls]) -> None:
    """Guards against an analysis that silently finds nothing (a renamed factory, a missed import)."""
    register = analysed["RegisterTaskDefinitionFunction"].actions()
    run_task = analysed["RunTaskFunction"].actions()
    for action in (
        "ecs:DescribeTaskDefinition",  # a module-level function (read_task_definition)
        "ecs:DeregisterTaskDefinition",  # through the remediation registry's block
        "logs:CreateLogGroup",  # a registered remediation (@remediation), reached through REMEDIATIONS
        "ecr:GetDownloadUrlForLayer",  # a client passed as an argument to a method
        "iam:GetPolicyVersion",  # a client passed to a helper method
        "iam:SimulatePrincipalPolicy",  # get_paginator("simulate_principal_policy")
        "secretsmanager:CreateSecret",  # a function-level import (flows.migration), a module constant
        "dynamodb:PutItem",  # Powertools idempotency, analysed from its source
        "dynamodb:UpdateItem",  # the role inventory
        "sns:Publish",
        "iam:PassRole",  # implied by register_task_definition(**request)
    ):
        assert action in register, action
    assert {"ecs:StopTask", "ecs:DescribeTasks", "ecs:DescribeTaskDefinition", "sns:Publish"} <= set(run_task)
    assert "dynamodb:PutItem" in run_task
    # The launch flow never reaches the registration flow's actions.
    for action in ("ecs:RegisterTaskDefinition", "logs:CreateLogGroup", "ecr:DescribeImages", "iam:PassRole"):
        assert action not in run_task, action


def test_a_changed_role_fails(analysed: dict[str, FunctionCalls]) -> None:
    """The real comparison, on the real template with one permission taken away and one added."""
    mutated = copy.deepcopy(TEMPLATE)
    role = role_id(mutated["Resources"]["RunTaskFunction"], mutated)
    policy = mutated["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]
    for statement in policy["Statement"]:
        if "ecs:StopTask" in as_list(statement.get("Action", [])):  # Fn::If entries have no Action
            statement["Action"] = [a for a in as_list(statement["Action"]) if a != "ecs:StopTask"]
    policy["Statement"].append({"Effect": "Allow", "Action": "ecs:RunTask", "Resource": "*"})
    missing, unused = compare(mutated, "RunTaskFunction", analysed["RunTaskFunction"])
    assert set(missing) == {"ecs:StopTask"} and unused == {"ecs:RunTask"}


def test_extras_are_few_and_explained() -> None:
    assert len(EXTRAS) <= 5 and all(reason.strip() for reason in EXTRAS.values())
    for service, operation, _, actions, why in IMPLIED:
        assert operation in service_operations(service).values(), (service, operation)
        assert actions and why.strip()


# --------------------------------------------------------------------------- self-test

SYNTHETIC = {
    "pkg/__init__.py": "",
    "pkg/clients.py": (
        "class Clients:\n    def __call__(self, service, region=None):\n        return self.session.client(service)\n"
    ),
    "pkg/handlers.py": (
        "from .clients import Clients\n"
        "def make_handler():\n"
        "    from .flow import run\n"
        "    return lambda event, context: run(Clients())\n"
        "def make_other_handler():\n"
        "    from .other import run\n"
        "    return run\n"
    ),
    "pkg/flow.py": (
        "from . import registry\n"
        "QUEUE = 'sqs'\n"
        "def run(clients):\n"
        "    sqs = clients(QUEUE)\n"
        "    sqs.send_message(QueueUrl='q', MessageBody='m')\n"
        "    _tag(clients('logs', 'eu-west-1'))\n"
        "    for page in clients('ecs').get_paginator('list_clusters').paginate():\n"
        "        pass\n"
        "    registry.run_all(clients)\n"
        "def _tag(logs):\n"
        "    logs.create_log_group(logGroupName='g', tags={'a': 'b'})\n"
        "def never_called(clients):\n"
        "    clients('s3').delete_bucket(Bucket='b')\n"
    ),
    "pkg/registry.py": (
        "FIXES = {}\n"
        "def fix(name):\n"
        "    def register(function):\n"
        "        FIXES[name] = function\n"
        "        return function\n"
        "    return register\n"
        "@fix('stop')\n"
        "def stop(clients):\n"
        "    clients('ecs').stop_task(task='t')\n"
        "def run_all(clients):\n"
        "    for function in FIXES.values():\n"
        "        function(clients)\n"
    ),
    "pkg/other.py": "def run(clients):\n    clients('sts').get_caller_identity()\n",
}


def _synthetic_template(actions: list[str]) -> dict[str, Any]:
    return {
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "fn/",
                    "Handler": "app.handler",
                    "Role": {"Fn::GetAtt": ["FnRole", "Arn"]},
                    "DeadLetterQueue": {"Type": "SQS", "TargetArn": "arn"},
                },
            },
            "FnRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyDocument": {
                                "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                            }
                        }
                    ]
                },
            },
        }
    }


def test_self_test_on_a_synthetic_package(tmp_path: Path) -> None:
    for relative, source in SYNTHETIC.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(source)
    handler = tmp_path / "fn" / "app.py"
    handler.parent.mkdir()
    handler.write_text("from pkg.handlers import make_handler\nhandler = make_handler()\n")
    found = collect(CodeModel(tmp_path / "pkg"), handler)
    assert found.problems == []
    # Reached: a module constant naming the service, a client passed to a helper (with tags: TagResource),
    # a paginator, a function filed in a registry the flow runs. Not reached: never_called, the other handler.
    assert set(found.actions()) == {
        "sqs:SendMessage",
        "logs:CreateLogGroup",
        "logs:TagResource",
        "ecs:ListClusters",
        "ecs:StopTask",
    }
    exact = ["sqs:SendMessage", "logs:CreateLogGroup", "logs:TagResource", "ecs:ListClusters", "ecs:StopTask"]
    assert compare(_synthetic_template(exact), "Fn", found) == ({}, set())
    # A missing permission and an unused one are both caught; sqs:SendMessage would be an allowed extra (DLQ).
    missing, unused = compare(
        _synthetic_template(["sqs:SendMessage", "logs:CreateLogGroup", "ecs:List*", "ecs:StopTask", "s3:GetObject"]),
        "Fn",
        found,
    )
    assert set(missing) == {"logs:TagResource"}
    assert unused == {"s3:GetObject"}
    # A role without the DLQ call's permission: the code sends to SQS, so it is missing either way.
    missing, _ = compare(_synthetic_template(exact[1:]), "Fn", found)
    assert set(missing) == {"sqs:SendMessage"}


def test_self_test_flags_what_it_cannot_follow(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "handlers.py").write_text(
        "import importlib\n"
        "def make_handler(service):\n"
        "    importlib.import_module(service)\n"
        "    clients(service).describe_things()\n"
        "    clients('ecs').describe_things()\n"
        "    cache = {'ecs': clients('ecs')}\n"
        "    cache['ecs'].stop_task(task='t')\n"
        "    from aws_lambda_powertools.utilities.parameters import get_parameter\n"
        "    return get_parameter\n"
    )
    handler = tmp_path / "app.py"
    handler.write_text("from pkg.handlers import make_handler\nhandler = make_handler('x')\n")
    problems = "\n".join(collect(CodeModel(tmp_path / "pkg"), handler).problems)
    assert "dynamic import" in problems
    assert "client of a service this analysis cannot read" in problems
    assert "describe_things is no operation of ['ecs']" in problems
    assert "aws_lambda_powertools.utilities.parameters" in problems
    assert "cache['ecs'].stop_task(...) looks like an AWS call" in problems
