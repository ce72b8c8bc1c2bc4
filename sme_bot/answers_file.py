"""Answers given as a JSON file (for `sme-bot score`), checked by the same rules as typed ones."""

import json
from pathlib import Path

from sme_bot.errors import AnswersError
from sme_bot.flows.answers import Reason, Value, accept
from sme_bot.flows.engine import asked
from sme_bot.questionnaire import Questionnaire


def read_answers(q: Questionnaire, path: Path) -> tuple[dict[str, Value], list[str]]:
    """The answers in `path`, and the ids of required questions it leaves unanswered."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AnswersError(f"{path}: file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AnswersError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise AnswersError(f'{path}: expected a JSON object mapping question ids to answers, like {{"sector": "retail"}}')
    answers: dict[str, Value] = {}
    for question_id, given in raw.items():
        question = q.question_by_id.get(question_id)
        if question is None:
            raise AnswersError(f"{path}: question '{question_id}' is not in {q.id}; see `sme-bot show {q.id} --format json`")
        value = None if given is None and not question.required else accept(question, given)
        if isinstance(value, Reason):
            choices = ", ".join(o.id for o in question.options)
            hint = f" (options: {choices})" if choices else ""
            raise AnswersError(f"{path}: question '{question_id}': {value.render('en')}{hint}")
        answers[question_id] = value
    missing = [x.id for x in asked(q, answers) if x.id not in answers and x.required]
    return answers, missing
