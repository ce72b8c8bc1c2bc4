"""Load a questionnaire in stages: read TOML, build the pydantic model, run the cross-checks.

Every stage reports problems with the file, the question (or pillar, level) and a fix; a file
with any problem is refused whole, so nothing starts on a broken questionnaire.
"""

import functools
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sme_bot.checks import check_questionnaire
from sme_bot.errors import Problem, QuestionnaireError
from sme_bot.questionnaire import Questionnaire

FRAMEWORK_DIR = "frameworks"
# Option lists shared as data (the communes and wards of a province): a question takes one with
# options_from = { list = "<file name>", group = "<group>" }.
LIST_DIR = "lists"
# Earlier versions of a questionnaire, kept so a stored assessment can be read with the file it
# was answered with (design.md rule 3): archive/<id>-<version>.toml.
ARCHIVE_DIR = "archive"
_LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English"}
# List keys whose items are named in messages by their id rather than their index.
_NAMED_LISTS = {"questions": "question", "profile": "question", "derived": "derived", "options": "option",
                "pillars": "pillar", "sub_indices": "sub-index", "bands": "band", "levels": "level", "roadmap": "roadmap", "steps": "step"}


def bundled_dir() -> Path:
    """The questionnaires shipped with sme-bot: inside the installed package, or in the checkout."""
    package = Path(__file__).resolve().parent
    installed = package / "questionnaires"
    return installed if installed.is_dir() else package.parent / "questionnaires"


def available(directory: Path | None = None) -> list[Path]:
    return sorted((directory or bundled_dir()).glob("*.toml"))


def resolve(name: str, directory: Path | None = None) -> Path:
    """A questionnaire given by id ("dbi-sme") or by path ("my/file.toml")."""
    if name.endswith(".toml") or "/" in name:
        return Path(name)
    return (directory or bundled_dir()) / f"{name}.toml"


def archived_files(directory: Path | None = None) -> list[Path]:
    """Every earlier version kept in archive/."""
    return sorted(((directory or bundled_dir()) / ARCHIVE_DIR).glob("*.toml"))


def archived(questionnaire_id: str, version: str, directory: Path | None = None) -> Path:
    """Where an earlier version of a shipped questionnaire is kept."""
    return (directory or bundled_dir()) / ARCHIVE_DIR / f"{questionnaire_id}-{version}.toml"


@functools.lru_cache(maxsize=32)
def load_version(questionnaire_id: str, version: str, directory: Path | None = None) -> Questionnaire:
    """A questionnaire as it was at `version`: the current file when it has that version, else
    the archived copy. QuestionnaireError when neither exists (or the copy is broken). Read once
    per process: a version's file does not change (a new one gets a new version)."""
    current = load(questionnaire_id, directory)
    if current.version == version:
        return current
    path = archived(questionnaire_id, version, directory)
    if not path.exists():
        raise QuestionnaireError([Problem(str(_shown(path)), "", f"no copy of {questionnaire_id} {version} is kept",
                                          f"put the file of that version at {ARCHIVE_DIR}/{path.name}")])
    older = load(path)
    if (older.id, older.version) != (questionnaire_id, version):
        raise QuestionnaireError([Problem(str(_shown(path)), "", f"holds {older.id} {older.version}",
                                          f"the file named {path.name} must hold id {questionnaire_id!r} and version {version!r}")])
    return older


def _data_dir(path: Path) -> Path:
    """The directory holding frameworks/ and lists/: the file's own, or the one above archive/."""
    return path.parent.parent if path.parent.name == ARCHIVE_DIR else path.parent


def load(name: str | Path, directory: Path | None = None) -> Questionnaire:
    path = _shown(resolve(str(name), directory))
    if not path.exists() and path.name == f"{name}.toml":
        # Given by id, not path: the shipped ids are the useful answer, not where they live.
        shipped = ", ".join(p.stem for p in available(directory))
        raise QuestionnaireError([Problem(str(name), "", "no such questionnaire",
                                          f"use one of {shipped}, or the path of a .toml file")])
    raw = _read_toml(path)
    framework_id = raw.get("framework")
    if not isinstance(framework_id, str):
        raise QuestionnaireError([Problem(str(path), "framework", "is missing",
                                          f'name the readiness model, e.g. framework = "dbi-2021" (a file in {FRAMEWORK_DIR}/)')])
    framework_path = _data_dir(path) / FRAMEWORK_DIR / f"{framework_id}.toml"
    raw = {**raw, "framework": _read_toml(framework_path)}
    raw = _with_listed_options(raw, path)
    try:
        questionnaire = Questionnaire.model_validate(raw)
    except ValidationError as error:
        raise QuestionnaireError(_located(error, raw, str(path), str(framework_path))) from None
    problems = check_questionnaire(questionnaire, str(path), str(framework_path))
    if problems:
        raise QuestionnaireError(problems)
    return questionnaire


def _with_listed_options(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    """Questions with options_from get the options of that list file (its items of that group)."""
    lists: dict[str, dict[str, Any]] = {}
    problems = []
    for section in ("profile", "questions"):
        items = raw.get(section)
        if not isinstance(items, list):
            continue
        expanded = []
        for question in items:
            source = question.get("options_from") if isinstance(question, dict) else None
            if source is None:
                expanded.append(question)
                continue
            where = f"question '{question.get('id')}'"
            if not isinstance(source, dict) or set(source) - {"list", "group"} or not isinstance(source.get("list"), str):
                problems.append(Problem(str(path), where, "options_from is not of the form { list = …, group = … }",
                                        f'name a file of {LIST_DIR}/ and, optionally, a group: options_from = {{ list = "…", group = "…" }}'))
                continue
            name = source["list"]
            if name not in lists:
                lists[name] = _read_toml(_data_dir(path) / LIST_DIR / f"{name}.toml")
            units = [u for u in lists[name].get("items", []) if isinstance(u, dict)
                     and ("group" not in source or u.get("group") == source["group"])]
            if not units:
                problems.append(Problem(str(path), where, f"options_from finds no items in {LIST_DIR}/{name}.toml"
                                        + (f" of group '{source['group']}'" if "group" in source else ""),
                                        "check the list's file name and the group"))
                continue
            options = [{"id": u.get("id"), "label": {"vi": u.get("name"), "en": u.get("name_en", u.get("name"))}}
                       for u in units]
            expanded.append({**{k: v for k, v in question.items() if k != "options_from"}, "options": options})
        raw = {**raw, section: expanded}
    if problems:
        raise QuestionnaireError(problems)
    return raw


def _shown(path: Path) -> Path:
    """The path as a user would type it: relative when it is under the working directory."""
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise QuestionnaireError([Problem(str(path), "", "file not found",
                                          "check the path, or run `sme-bot validate` to list the shipped questionnaires")]) from None
    except UnicodeDecodeError:
        raise QuestionnaireError([Problem(str(path), "", "is not UTF-8 text", "save it as UTF-8")]) from None
    except tomllib.TOMLDecodeError as error:
        raise QuestionnaireError([Problem(str(path), "", f"is not valid TOML ({error})", "fix the syntax at that line")]) from None
    except OSError as error:
        raise QuestionnaireError([Problem(str(path), "", f"cannot be read ({error.strerror})", "check the file's permissions")]) from None


def _located(error: ValidationError, raw: dict[str, Any], file: str, framework_file: str) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = list(item["loc"])
        source, node = file, raw
        if loc and loc[0] == "framework":
            source, node, loc = framework_file, raw["framework"], loc[1:]
        where, field = _describe(node, loc)
        problems.append(Problem(source, where, *_explain(item, field)))
    return problems


def _describe(node: Any, loc: list[Any]) -> tuple[str, str]:
    """('question 'web' › option 'weekly'', 'label.en') from a pydantic location."""
    places: list[str] = []
    field: list[str] = []
    i = 0
    while i < len(loc):
        key = loc[i]
        if key in _NAMED_LISTS and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            index = loc[i + 1]
            items = node.get(key) if isinstance(node, dict) else None
            node = items[index] if isinstance(items, list) and index < len(items) else None
            places.append(_name(_NAMED_LISTS[key], node, index))
            field = []
            i += 2
            continue
        field.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
        i += 1
    return " › ".join(places), ".".join(field)


def _name(kind: str, item: Any, index: int) -> str:
    if isinstance(item, dict):
        if "id" in item:
            return f"{kind} '{item['id']}'"
        if kind == "level" and "level" in item:
            return f"level {item['level']}"
        if kind == "roadmap" and {"pillar", "level"} <= item.keys():
            return f"roadmap for '{item['pillar']}' level {item['level']}"
    return f"{kind} #{index + 1}"


def _explain(item: Any, field: str) -> tuple[str, str]:
    kind = item["type"]
    last = field.rsplit(".", 1)[-1]
    if kind == "missing" and last in _LANGUAGE_NAMES:
        return f"{field} is missing", f"add the {_LANGUAGE_NAMES[last]} text"
    if kind == "missing":
        return f"{field} is missing", "add it"
    if kind == "extra_forbidden":
        return f"unknown key '{field}'", "remove it or correct its spelling"
    if kind == "string_too_short":
        return f"{field} is empty", "write the text"
    message = item["msg"].removeprefix("Value error, ")
    return (f"{field}: {message}" if field else message), ""
