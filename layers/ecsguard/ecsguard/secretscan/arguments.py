"""Credentials in command lines: ``command``/``entryPoint`` arrays and shell strings (``--password=x``,
``--password x``, ``-Dx.password=y``, ``NAME=value``, ``mysql -psecret``, ``sshpass -p``, ``curl -u user:pass``,
``echo pw | ... --password-stdin``, header arguments, ``sh -c '...'`` split and scanned recursively). Flag and
assignment values are judged with the name + value rules of :mod:`.values`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from . import values
from .core import SecretMatch, _Lazy, _looks_random, _match
from .names import _name_kind
from .placeholders import _is_path, is_reference_or_placeholder
from .plausible import _NUMBER, _plausible_secret
from .providers import _provider_matches
from .urls import _url_matches
from .values import _auth_header_matches, _named_match

# --------------------------------------------------------------------------------------------
# Command lines
# --------------------------------------------------------------------------------------------

_MYSQL_FAMILY = frozenset(
    "mysql mysqldump mysqladmin mysqlimport mysqlshow mysqlcheck mariadb mariadb-dump mysqlpump mysqlsh".split()
)
_MONGO_FAMILY = frozenset(
    "mongo mongosh mongodump mongorestore mongoexport mongoimport mongostat mongotop mongofiles".split()
)
_SEPARATE_PASSWORD_FLAGS = {
    "sshpass": {"-p"},
    "redis-cli": {"-a"},
    "keydb-cli": {"-a"},
    "valkey-cli": {"-a"},
    **{program: {"-p"} for program in _MONGO_FAMILY},  # mongo shell and tools: -p is --password
    "sqlcmd": {"-P"},  # SQL Server tools: -P is the password (-p is not a port there either)
    "bcp": {"-P"},
    "osql": {"-P"},
}
_USERPASS_FLAGS = {"-u", "--user", "--proxy-user", "-U"}
# user<separator>password in one argument: curl -u user:pw, lftp -u user,pw, smbclient -U user%pw
_USERPASS_SEPARATORS = {
    "curl": ":",
    "wget": ":",
    "http": ":",
    "https": ":",
    "lftp": ",",
    "smbclient": "%",
    "rpcclient": "%",
    "smbcacls": "%",
    "smbget": "%",
}
_USERPASS_PROGRAMS = frozenset(_USERPASS_SEPARATORS)
# Registry logins whose -p is the password (docker run -p is a port: only after the login subcommand).
_LOGIN_PROGRAMS = frozenset("docker podman buildah skopeo nerdctl finch".split())
_USER_FLAGS = frozenset({"-U", "-u", "--user", "--username"})
_STDIN_PASSWORD_FLAGS = frozenset({"--password-stdin", "--passwd-stdin", "--stdin"})
_HEADER_ARG = _Lazy(r"^(?P<key>[A-Za-z][A-Za-z0-9_-]*):\s*(?P<value>\S.*)$", re.S)


# Programs taking a password as a positional argument: (program, subcommand) -> its position after the subcommand.
_POSITIONAL_PASSWORDS = {("rabbitmqctl", "add_user"): 2, ("rabbitmqctl", "change_password"): 2}
# Programs whose -b (batch) flag takes the password as the last positional argument: htpasswd -b[c] file user pw.
_BATCH_PASSWORD_PROGRAMS = frozenset({"htpasswd", "mosquitto_passwd"})
_SHELL_OPERATORS = frozenset({"&&", "||", ";", "|", "&", ">", ">>", "<", "2>", "2>&1"})


def _positional_passwords(args: Sequence[str]) -> Iterator[tuple[int, SecretMatch]]:
    for j, arg in enumerate(args):
        program = _program(arg)
        if program != "rabbitmqctl" and program not in _BATCH_PASSWORD_PROGRAMS:
            continue
        tail: list[int] = []
        for k in range(j + 1, len(args)):
            if args[k] in _SHELL_OPERATORS:
                break
            tail.append(k)
        positional = [k for k in tail if not args[k].startswith("-")]
        index = None
        if program == "rabbitmqctl":
            for n, k in enumerate(positional):
                position = _POSITIONAL_PASSWORDS.get((program, args[k].lower()))
                if position is not None and n + position < len(positional):
                    index = positional[n + position]
                    break
        elif any(re.fullmatch(r"-[A-Za-z]*b[A-Za-z]*", args[k]) for k in tail) and len(positional) >= 2:
            index = positional[-1]
        if index is not None and not is_reference_or_placeholder(args[index]):
            yield index, _match("command-line-password", f"password passed to {program}", args[index])


_SUBSTITUTION = _Lazy(r"\$\((?:[^()]|\([^()]*\))*\)|`[^`]*`")


def _split_shell(text: str) -> list[str]:
    import shlex

    text = _SUBSTITUTION.sub("${SUBSTITUTION}", text)  # $(cat /run/secrets/x) is a reference, keep it one token
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        return text.split()


def _program(token: str) -> str:
    return token.rsplit("/", 1)[-1].lower()


def _judge_flag(name: str, value: str) -> SecretMatch | None:
    name = name.lstrip("-")
    if name.startswith("D") and "." in name:
        name = name[1:]  # -Dspring.datasource.password=...
    low = name.lower()
    if low in {"pass", "passin", "passout", "password"} and re.match(r"^(?:env|file|fd|stdin)(?::|$)", value):
        return None  # openssl -pass env:VAR / file:path
    if low in {"pass", "passin", "passout"} and value.startswith("pass:"):
        value = value[5:]
    matches = scan_value(value, name)
    return matches[0] if matches else None


# Tools whose -P is not a password: port (mysql, scp, curl's FTP port), directory (wget), progress (rsync),
# --pset (psql), profiles (maven).
_NOT_PASSWORD_CAPITAL_P = frozenset("scp wget rsync ssh sftp psql mvn mvnw maven".split())


def _generic_capital_p_password(args: Sequence[str], programs: set[str], value: str) -> bool:
    """``tool -U <user> -P <value>``: the sqlcmd/bcp/isql convention. Not for the tools where ``-P`` is something
    else (mysql and curl: port; scp: port; wget: directory), and never a number or a path."""
    if programs & (_MYSQL_FAMILY | _USERPASS_PROGRAMS | _NOT_PASSWORD_CAPITAL_P):
        return False
    has_user = any(
        a in _USER_FLAGS and k + 1 < len(args) and args[k + 1] and not args[k + 1].startswith("-")
        for k, a in enumerate(args)
    )
    v = value.strip()
    if not has_user or _NUMBER.match(v) or _is_path(v) or is_reference_or_placeholder(v):
        return False
    if re.fullmatch(r"[a-z][a-z0-9,_.-]*", v) and not _looks_random(v, 12):
        return False  # an unknown tool's lowercase option value (a profile list, a mode), not a password
    return _plausible_secret(v, strong=True)


def _stdin_passwords(args: Sequence[str]) -> Iterator[tuple[int, SecretMatch]]:
    """``echo <pw> | docker login --password-stdin``, ``echo user:<pw> | chpasswd``: a literal piped into a program
    that reads its password from standard input."""
    for j, arg in enumerate(args):
        if _program(arg) not in {"echo", "printf"}:
            continue
        end = next((k for k in range(j + 1, len(args)) if args[k] in _SHELL_OPERATORS), len(args))
        if end >= len(args) or args[end] != "|":
            continue
        words = [k for k in range(j + 1, end) if not args[k].startswith("-") and "%" not in args[k]]
        if len(words) != 1:
            continue
        index = words[0]
        after = list(
            args[end + 1 : next((k for k in range(end + 1, len(args)) if args[k] in _SHELL_OPERATORS), len(args))]
        )
        reader = {_program(a) for a in after[:1]}
        secret = args[index]
        if reader & {"chpasswd", "chpass"}:
            if ":" not in secret:
                continue
            secret = secret.split(":", 1)[1]
        elif not (set(after) & _STDIN_PASSWORD_FLAGS and ("login" in after or reader & {"passwd"})):
            continue
        if secret and not is_reference_or_placeholder(secret):
            yield index, _match("command-line-password", "password piped to a program reading it from stdin", secret)


def _header_argument(args: Sequence[str], i: int) -> SecretMatch | None:
    """``-H 'X-Api-Key: …'``, ``--header "Private-Token: …"``: a header argument judged as name=value."""
    arg = args[i]
    after_flag = i > 0 and args[i - 1] in {"-H", "--header", "--headers"}
    if not (after_flag or ": " in arg):
        return None
    m = _HEADER_ARG.match(arg.strip())
    if not m or m.group("key").lower() in {"authorization", "proxy-authorization"}:
        return None  # Authorization headers have their own rule
    if not after_flag and re.search(r"\s", m.group("value").strip()):
        return None  # "Password: must be 12 characters": text, not a header
    return _named_match(m.group("key"), m.group("value").strip(), rule="embedded-assignment")


def _scan_tokens(args: Sequence[str], depth: int = 0) -> Iterator[tuple[int, SecretMatch]]:
    programs = {_program(a) for a in args if a and not a.startswith("-")}
    consumed: set[int] = set()
    if programs & ({"rabbitmqctl"} | _BATCH_PASSWORD_PROGRAMS):
        for index, match in _positional_passwords(args):
            consumed.add(index)
            yield index, match
    if "|" in args and programs & {"echo", "printf"}:
        for index, match in _stdin_passwords(args):
            consumed.add(index)
            yield index, match
    for i, arg in enumerate(args):
        if i in consumed or not arg:
            continue
        if depth < 2 and re.search(r"\s", arg.strip()):
            whole = list(_provider_matches(arg)) + list(_url_matches(arg)) + list(_auth_header_matches(arg))
            header = _header_argument(args, i)
            if header:
                whole.append(header)
            for match in whole:
                yield i, match
            for _, match in _scan_tokens(_split_shell(arg), depth + 1):
                yield i, match
            continue
        matched = False
        if arg.startswith("-p") and len(arg) > 2 and not arg.startswith("--") and programs & _MYSQL_FAMILY:
            secret = arg[2:]  # before the --flag=value branch: -pAb=cd is a password containing "="
            if not is_reference_or_placeholder(secret):
                yield i, _match("command-line-password", "password in a mysql -p argument", secret)
                matched = True
        elif (
            i > 0
            and args[i - 1].lower() == "set"
            and i + 1 < len(args)
            and not arg.startswith("-")
            and (nk := _name_kind(arg))
            and nk[0] != "public"
        ):
            # aws configure set aws_secret_access_key X, npm config set //r/:_authToken X, CONFIG SET requirepass X
            found = _judge_flag(arg, args[i + 1])
            if found:
                yield i + 1, found
                consumed.add(i + 1)
                matched = True
        elif arg.startswith("-") and "=" in arg:
            flag, _, value = arg.partition("=")
            found = _judge_flag(flag, value)
            if found:
                yield i, found
                matched = True
        elif arg.startswith("-") and len(arg) > 1:
            flag = arg
            nxt = args[i + 1] if i + 1 < len(args) else None
            if nxt is not None and not nxt.startswith("-"):
                found = None
                if any(flag in flags for prog, flags in _SEPARATE_PASSWORD_FLAGS.items() if prog in programs):
                    if not is_reference_or_placeholder(nxt):
                        found = _match("command-line-password", f"password passed with {flag}", nxt)
                elif (
                    flag in _USERPASS_FLAGS
                    and (
                        separator := next((_USERPASS_SEPARATORS[p] for p in programs if p in _USERPASS_SEPARATORS), "")
                    )
                    and separator in nxt
                ):
                    password = nxt.split(separator, 1)[1]
                    if password and not is_reference_or_placeholder(password):
                        found = _match("command-line-password", f"password passed with {flag} user:password", password)
                elif flag in {"-p", "--pass"} and any(
                    args[k] == "login" and _program(args[k - 1]) in _LOGIN_PROGRAMS for k in range(1, i)
                ):
                    if not is_reference_or_placeholder(nxt):
                        found = _match("command-line-password", "password passed to a registry login", nxt)
                elif flag == "-P" and _generic_capital_p_password(args, programs, nxt):
                    found = _match("command-line-password", "password passed with -P next to -U <user>", nxt)
                elif len(flag.lstrip("-")) > 1 or flag == "-P":
                    nk = _name_kind(flag.lstrip("-"))
                    if nk and nk[0] != "public":
                        found = _judge_flag(flag, nxt)
                if found:
                    yield i + 1, found
                    consumed.add(i + 1)
                    matched = True
        elif re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", arg):
            name, _, value = arg.partition("=")
            found = classify_variable(name, value)
            if found:
                yield i, found
                matched = True
        if not matched and ":" in arg and (header := _header_argument(args, i)):
            yield i, header
            matched = True
        if not matched:
            for match in scan_value(arg):
                yield i, match


def scan_arguments(args: Sequence[str]) -> list[tuple[int, SecretMatch]]:
    """Credentials in a ``command``/``entryPoint`` array: (index of the argument holding it, match).

    Understands ``--password=x``, ``--password x``, ``-Dx.password=y``, ``NAME=value`` assignments,
    ``mysql -psecret``, ``sshpass -p``, ``redis-cli -a``, ``curl -u user:pass``, ``mongo -p``, ``sqlcmd -P``,
    ``-U user -P pw``, ``docker login -p``, ``echo pw | … --password-stdin``, header arguments, shell strings
    (``sh -c '...'``, split and scanned recursively), URLs with credentials and provider tokens.
    """
    results: list[tuple[int, SecretMatch]] = []
    seen: set[tuple[int, str]] = set()
    clean = ["" if a is None else a if isinstance(a, str) else str(a) for a in args]
    for index, match in _scan_tokens(clean):
        key = (index, match.fingerprint)
        if key not in seen:
            seen.add(key)
            results.append((index, match))
    return results


def command_line_matches(value: str) -> Iterator[SecretMatch]:
    """Rule 5: a command line kept in a variable (``REDIS_ARGS=--requirepass x``), scanned like ``command``."""
    return (match for _, match in _scan_tokens(_split_shell(value), depth=1))


def scan_value(value: str, name: str = "") -> list[SecretMatch]:
    """Every credential in one value (rules 1-5), most specific first: the value rules plus command lines.

    Defined here rather than in :mod:`.values` so that the mutual recursion (a variable holding a
    command line, an argument holding a value) is a parameter, not an import circle.
    """
    return values.scan_value(value, name, command_lines=command_line_matches)


def classify_variable(name: str, value: str) -> SecretMatch | None:
    """Judge one environment entry, log-driver option or label by its name and value together."""
    return values.classify_variable(name, value, command_lines=command_line_matches)
