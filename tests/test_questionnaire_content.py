"""What the questionnaires say about themselves: the model they are based on (and that they are not
an official DBI result), which of the model's sub-indices their questions stand for, and short
labels for chat buttons."""

import re

import pytest
from conftest import REPO, TINY, TINY_FRAMEWORK, sme_bot, write_tiny

from sme_bot import loader
from sme_bot.channels.chat import Capabilities, Conversation, Programme, User
from sme_bot.errors import QuestionnaireError
from sme_bot.messages import say
from sme_bot.service import AssessmentService, Questionnaires
from sme_bot.storage import Store

# The tiny framework with sub-indices: sales has two, money one.
SUBS_FRAMEWORK = TINY_FRAMEWORK.replace(
    'description = { vi = "Bán hàng", en = "Sales" }\n',
    'description = { vi = "Bán hàng", en = "Sales" }\n'
    'sub_indices = [\n'
    '  { id = "online", points = 6, name = { vi = "Trực tuyến", en = "Online" } },\n'
    '  { id = "upkeep", points = 4, name = { vi = "Duy trì", en = "Upkeep" } },\n'
    ']\n', 1).replace(
    'description = { vi = "Tài chính", en = "Money" }\n',
    'description = { vi = "Tài chính", en = "Money" }\n'
    'sub_indices = [{ id = "books", points = 10, name = { vi = "Sổ sách", en = "Books" } }]\n', 1)

# Every scored question of TINY names a sub-index, and every sub-index has a question.
MAPPED = (TINY.replace('pillar = "sales"\ntype = "multi"', 'pillar = "sales"\nsub_index = "online"\ntype = "multi"', 1)
          .replace('pillar = "sales"\ntype = "single"', 'pillar = "sales"\nsub_index = "upkeep"\ntype = "single"', 1)
          .replace('pillar = "money"\ntype = "yesno"', 'pillar = "money"\nsub_index = "books"\ntype = "yesno"', 1)
          .replace('pillar = "money"\ntype = "single"', 'pillar = "money"\nsub_index = "books"\ntype = "single"', 1))
CLAIMED = 'maps_sub_indices = true\n' + MAPPED

LONG_VI = "Cửa hàng bán lẻ tạp hóa và đồ gia dụng ngoài chợ huyện"
LONG_EN = "A shop selling groceries and household goods at the market"


def problems(tmp_path, questionnaire, framework=SUBS_FRAMEWORK):
    path = write_tiny(tmp_path, questionnaire, framework)
    with pytest.raises(QuestionnaireError) as caught:
        loader.load(path)
    return [str(p) for p in caught.value.problems]


def test_the_fixtures_are_valid(tmp_path):
    q = loader.load(write_tiny(tmp_path, CLAIMED, SUBS_FRAMEWORK))
    assert q.maps_sub_indices and q.question_by_id["updates"].sub_index == "upkeep"
    assert q.framework.pillar_by_id["sales"].sub_index("online").points == 6


# -- short labels ---------------------------------------------------------------------------

def test_a_short_label_over_40_characters_is_refused_with_its_place_and_fix(tmp_path):
    too_long = "x" * 41
    changed = TINY.replace('label = { vi = "Zalo", en = "Zalo" } }',
                           f'label = {{ vi = "Zalo", en = "Zalo" }}, short = {{ vi = "Zalo", en = "{too_long}" }} }}', 1)
    found = problems(tmp_path, changed, TINY_FRAMEWORK)
    assert found == [(f"{tmp_path / 'tiny.toml'}: question 'channels' › option 'zalo': short.en has 41 characters, "
                     "more than 40 — shorten it to at most 40: it is the text of a chat button")]


def test_a_short_label_needs_both_languages(tmp_path):
    changed = TINY.replace('label = { vi = "Zalo", en = "Zalo" } }', 'label = { vi = "Zalo", en = "Zalo" }, short = { vi = "Zalo" } }', 1)
    assert any("option 'zalo': short.en is missing — add the English text" in p for p in problems(tmp_path, changed, TINY_FRAMEWORK))


def test_button_label_is_the_short_label_where_there_is_one(tmp_path):
    q = loader.load(write_tiny(tmp_path, _with_long_first_question(short=True)))
    shop, other = q.question_by_id["kind"].options
    assert shop.button_label("vi") == "Cửa hàng" and shop.button_label("en") == "Shop"
    assert shop.label("en") == LONG_EN and other.button_label("en") == "Other"


@pytest.mark.parametrize("name", ["dbi-sme", "quick-check"])
def test_every_long_option_of_the_shipped_questionnaires_has_a_short_label(name):
    q = loader.load(name)
    long = [(x.id, o.id) for x in q.all_questions for o in x.options
            if max(len(o.label("vi")), len(o.label("en"))) > 40 and o.short is None]
    assert long == []


# -- sub-indices ----------------------------------------------------------------------------

def test_an_unknown_sub_index_is_refused(tmp_path):
    found = problems(tmp_path, MAPPED.replace('sub_index = "upkeep"', 'sub_index = "upkep"', 1))
    assert found == [(f"{tmp_path / 'tiny.toml'}: question 'updates': sub_index 'upkep' is not a sub-index of "
                     "pillar 'sales' — use one of online, upkeep")]


def test_a_sub_index_of_another_pillar_is_refused(tmp_path):
    found = problems(tmp_path, MAPPED.replace('sub_index = "upkeep"', 'sub_index = "books"', 1))
    assert any("question 'updates': sub_index 'books' is not a sub-index of pillar 'sales'" in p for p in found)


def test_a_sub_index_on_a_pillar_without_any_is_refused(tmp_path):
    found = problems(tmp_path, MAPPED, TINY_FRAMEWORK)
    assert any("question 'channels': sub_index 'online' is given, but pillar 'sales' has no sub-indices" in p
               and "declare the pillar's sub_indices in the framework file" in p for p in found)


def test_an_uncovered_sub_index_is_reported_only_when_the_file_claims_to_map_them(tmp_path):
    uncovered = MAPPED.replace('sub_index = "upkeep"', 'sub_index = "online"', 1)
    assert loader.load(write_tiny(tmp_path, uncovered, SUBS_FRAMEWORK)).id == "tiny"  # no claim, no check
    found = problems(tmp_path, "maps_sub_indices = true\n" + uncovered)
    assert found == [(f"{tmp_path / 'tiny.toml'}: pillar 'sales' › sub-index 'upkeep': no scored question stands for it "
                     "(4 points in the model), and the file sets maps_sub_indices = true — add a question with "
                     'pillar = "sales" and sub_index = "upkeep", or remove maps_sub_indices')]


def test_a_claimed_mapping_needs_a_sub_index_on_every_scored_question(tmp_path):
    found = problems(tmp_path, CLAIMED.replace('sub_index = "books"\ntype = "yesno"', 'type = "yesno"', 1))
    assert found == [(f"{tmp_path / 'tiny.toml'}: question 'books': has no sub_index, and the file sets "
                     "maps_sub_indices = true — add sub_index = one of books")]


def test_a_sub_index_defined_twice_is_refused(tmp_path):
    framework = SUBS_FRAMEWORK.replace('{ id = "upkeep", points = 4', '{ id = "online", points = 4', 1)
    found = problems(tmp_path, TINY, framework)
    assert any("frameworks/tiny.toml: pillar 'sales': sub-index 'online' is defined 2 times" in p for p in found)


def test_the_framework_carries_the_decisions_sub_indices_and_points(dbi):
    subs = {p.id: {s.id: s.points for s in p.sub_indices} for p in dbi.pillars}
    assert subs == {
        "customer": {"online_presence": 45, "online_activity": 20}, "strategy": {"strategy": 25},
        "infrastructure": {"network": 10, "ict": 70}, "operations": {"ict_policies": 30, "human_resources": 35},
        "culture": {"ict_use": 25, "rnd": 25}, "data": {"data": 35}}
    assert all(sum(s.points for s in p.sub_indices) == p.weight for p in dbi.pillars)


def uncovered(q):
    return sorted(f"{p.id}.{s.id}" for p in q.pillars for s in p.sub_indices
                  if not any(x.sub_index == s.id and x.pillar == p.id and x.max_points for x in q.questions))


def test_the_shipped_questionnaires_name_a_sub_index_for_every_scored_question(dbi, quick):
    for q in (dbi, quick):
        assert [x.id for x in q.questions if x.max_points and x.sub_index is None] == []
    # 2026.2 covers every sub-index, and both files claim it (validate checks the claim).
    assert uncovered(dbi) == [] and uncovered(quick) == []
    assert dbi.maps_sub_indices and quick.maps_sub_indices


def test_the_full_questionnaire_gives_each_sub_index_the_points_the_decision_gives_it(dbi):
    for pillar in dbi.pillars:
        assert dbi.pillar_max[pillar.id] == pillar.weight
        for sub in pillar.sub_indices:
            here = sum(x.max_points for x in dbi.questions if x.pillar == pillar.id and x.sub_index == sub.id)
            assert here == sub.points, (pillar.id, sub.id)
    assert sum(dbi.pillar_max.values()) == 320


def test_show_markdown_ends_with_the_mapping_table():
    out = sme_bot("show", "dbi-sme", "--format", "markdown", "--lang", "en").stdout
    table = out[out.index("## Mapping to the model's sub-indices"):]
    assert "Quyết định 1970/QĐ-BTTTT" in table
    assert "| Pillar | Sub-index | Points in the model | Questions | Max points here |" in table
    assert "| Digital infrastructure and technology | Network | 10 | 22 (i_internet) | 10 |" in table
    assert "| Digital culture of the enterprise | Research and development | 25 | 43 (k_new), 44 (k_brand) | 25 |" in table
    vi = sme_bot("show", "quick-check", "--format", "markdown").stdout
    assert "## Đối chiếu với các chỉ số thành phần của mô hình" in vi and "| Hạ tầng mạng | 10 | 10 (i_internet) | 5 |" in vi
    assert "Đối chiếu" not in sme_bot("show", "dbi-sme").stdout  # the paper form stays a form


# -- framing --------------------------------------------------------------------------------

FRAMING = {"vi": ("1970/QĐ-BTTTT", "không phải kết quả DBI chính thức", "dbi.gov.vn", "1567/QĐ-BKHCN"),
           "en": ("1970/QĐ-BTTTT", "not an official DBI", "dbi.gov.vn", "1567/QĐ-BKHCN")}


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_greeting_and_the_welcome_say_what_the_model_is(lang, dbi, quick):
    texts = [say("greeting", lang, programme="P", questions=40, minutes=12, contact="C"),
             say("web_what", lang, questions=40, minutes=12, pillars=6),
             dbi.description(lang), quick.description(lang)]
    for text in texts:
        assert all(part in text for part in FRAMING[lang]), text
    assert "Digital Business Indicators" in say("greeting", "en", programme="P", questions=1, minutes=1, contact="C")


def test_no_user_facing_text_calls_this_the_national_dbi():
    files = [REPO / "sme_bot" / "messages.toml", *sorted((REPO / "questionnaires").rglob("*.toml"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"DBI quốc gia|national DBI", text, re.IGNORECASE), path


# -- chat buttons ---------------------------------------------------------------------------

def _with_long_first_question(*, short: bool) -> str:
    extra = ', short = { vi = "Cửa hàng", en = "Shop" }' if short else ""
    first = f"""
[[profile]]
id = "kind"
type = "single"
text = {{ vi = "Loại hình?", en = "What kind?" }}
options = [
  {{ id = "shop", label = {{ vi = "{LONG_VI}", en = "{LONG_EN}" }}{extra} }},
  {{ id = "other", label = {{ vi = "Khác", en = "Other" }} }},
]
"""
    return TINY.replace("\n[[profile]]", first + "\n[[profile]]", 1)


def _first_question(tmp_path, questionnaire):
    store = Store(tmp_path / "chat.db")
    try:
        service = AssessmentService(store, Questionnaires(loader.load(write_tiny(tmp_path, questionnaire))))
        conversation = Conversation(service, Programme("P", "C"), Capabilities("testbuttons"))
        user = User("1", "1")
        consent = conversation.start(user, None).messages[-1].buttons[0][0][1]
        return conversation.button(user, consent).messages[-1]
    finally:
        store.close()


def test_buttons_show_the_short_label_and_the_message_the_full_options(tmp_path):
    message = _first_question(tmp_path, _with_long_first_question(short=True))
    assert [row[0][0] for row in message.buttons[:2]] == ["Cửa hàng", "Khác"]
    assert f"1. {LONG_VI}\n2. Khác" in message.text


def test_without_short_labels_buttons_carry_the_labels_and_the_message_lists_nothing(tmp_path):
    message = _first_question(tmp_path, _with_long_first_question(short=False))
    assert [row[0][0] for row in message.buttons[:2]] == [LONG_VI, "Khác"]
    assert "1. " not in message.text


# -- 2026.2: size by Decree 80/2021, computed from the answers by a rule table in the file ----

SIZE = """
[[derived]]
id = "size"
type = "single"
breakdown = "size"
text = { vi = "Quy mô", en = "Size" }
options = [
  { id = "small", label = { vi = "Nhỏ", en = "Small" } },
  { id = "big", label = { vi = "Lớn", en = "Big" } },
]

[[derived.rules]]
value = "small"
when = [{ question = "staff", max = 10 }]

[[derived.rules]]
value = "big"
when = [{ question = "staff", min = 11 }]
"""


def test_a_size_rule_naming_an_unknown_question_is_refused_with_its_place(tmp_path):
    found = problems(tmp_path, TINY + SIZE.replace('{ question = "staff", max = 10 }', '{ question = "staf", max = 10 }'),
                     TINY_FRAMEWORK)
    assert found == [(f"{tmp_path / 'tiny.toml'}: derived 'size' › rule 1 ('small'): names an unknown question 'staf' "
                      "— name a question of this file (a profile question, usually)")]


@pytest.mark.parametrize("change,message", [
    (('value = "big"', 'value = "huge"'), "derived 'size' › rule 2 ('huge'): gives 'huge', which is not one of its options"),
    (('{ question = "staff", min = 11 }', '{ question = "staff", any_of = ["many"] }'),
     "rule 2 ('big'): uses any_of on 'staff', a number question"),
    (('{ question = "staff", min = 11 }', '{ question = "books", min = 1 }'), "rule 2 ('big'): uses min/max on 'books', a yesno question"),
    (('{ question = "staff", min = 11 }', '{ question = "books", any_of = ["maybe"] }'),
     "rule 2 ('big'): names option 'maybe', which 'books' does not have"),
])
def test_a_wrong_size_rule_is_refused(tmp_path, change, message):
    assert any(message in p for p in problems(tmp_path, TINY + SIZE.replace(*change), TINY_FRAMEWORK))


def test_a_derived_answer_is_stored_with_the_answers_and_withdrawn_with_its_input(tmp_path):
    q = loader.load(write_tiny(tmp_path, TINY + SIZE, TINY_FRAMEWORK))
    assert "size" not in {x.id for x in q.all_questions} and q.breakdowns["size"].id == "size"
    store = Store(tmp_path / "a.db")
    try:
        service = AssessmentService(store, Questionnaires(q))
        person = service.agree("console", "1", language="vi")
        session = service.open(person, channel="console", language="vi").session
        session.answer("12")
        assert store.assessments.answers(session.assessment.id) == {"staff": 12, "size": "big"}
        session.back()
        assert store.assessments.answers(session.assessment.id) == {}
        session.answer("3")
        assert store.assessments.answers(session.assessment.id) == {"staff": 3, "size": "small"}
    finally:
        store.close()


AGRI, TRADE = "agriculture", "retail"


@pytest.mark.parametrize("answers,size", [
    # Agriculture, industry, construction: micro ≤ 10 people and revenue ≤ 3 bn or capital ≤ 3 bn …
    ({"sector": AGRI, "employees": 8, "revenue": "to_3"}, "micro"),
    ({"sector": AGRI, "employees": 8, "revenue": "to_10", "capital": "to_3"}, "micro"),  # capital is enough
    ({"sector": AGRI, "employees": 8, "revenue": "to_10", "capital": "to_20"}, "small"),  # micro's 3 bn passed
    ({"sector": "manufacturing", "employees": 45, "revenue": "to_100", "capital": "to_20"}, "small"),
    ({"sector": "construction", "employees": 45, "revenue": "to_100", "capital": "to_50"}, "medium"),
    ({"sector": AGRI, "employees": 150, "revenue": "to_200"}, "medium"),
    ({"sector": AGRI, "employees": 250, "revenue": "to_3"}, "large"),  # over 200 people: not an SME
    ({"sector": AGRI, "employees": 150, "revenue": "over_300", "capital": "over_100"}, "large"),
    # … trade and services: micro ≤ 10 and ≤ 10 bn or ≤ 3 bn; small ≤ 50 and ≤ 100 bn or ≤ 50 bn; medium ≤ 100.
    ({"sector": TRADE, "employees": 8, "revenue": "to_10"}, "micro"),  # 10 bn is micro here, small in agriculture
    ({"sector": "food", "employees": 6, "revenue": "to_3"}, "micro"),
    ({"sector": "services", "employees": 45, "revenue": "to_100"}, "small"),
    ({"sector": TRADE, "employees": 60, "revenue": "to_50"}, "medium"),  # over trade's 50 people
    ({"sector": "transport", "employees": 120, "revenue": "to_3"}, "large"),
    ({"sector": TRADE, "employees": 80, "revenue": "over_300", "capital": "over_100"}, "large"),
    # Not known: the class is left out, never guessed.
    ({"sector": TRADE, "employees": 8, "revenue": "unknown", "capital": "unknown"}, None),
    ({"sector": "other", "employees": 3, "revenue": "to_3"}, None),
    ({"sector": TRADE, "employees": 3}, None),
])
@pytest.mark.parametrize("name", ["dbi-sme", "quick-check"])
def test_the_size_class_follows_decree_80_for_each_sector(name, answers, size):
    assert loader.load(name).derive(answers) == {"size": size}


def test_staff_figures_break_down_by_the_computed_size(dbi, quick):
    for q in (dbi, quick):
        assert q.breakdowns["size"].id == "size" and [o.id for o in q.breakdowns["size"].options] == [
            "micro", "small", "medium", "large"]
        assert q.question_by_id["employees"].breakdown is None  # no longer banded by people alone


# -- 2026.2: fit for a one-person shop -------------------------------------------------------

STAFF_QUESTIONS = {"o_payroll", "o_tasks", "o_training", "o_guides", "k_staff"}


def test_questions_about_staff_are_skipped_for_a_one_person_shop(dbi, quick):
    from sme_bot.flows import engine

    alone = {"sector": "retail", "employees": 1.0}
    assert STAFF_QUESTIONS.isdisjoint(x.id for x in engine.asked(dbi, alone))
    assert STAFF_QUESTIONS <= {x.id for x in engine.asked(dbi, {**alone, "employees": 2.0})}
    assert {x.ask_if.min for x in dbi.questions if x.id in STAFF_QUESTIONS} == {2}
    assert "o_tasks" not in {x.id for x in engine.asked(quick, alone)}
    # Not asked means not counted against the pillar: a shop of one can still reach every pillar's top.
    from sme_bot.scoring import score

    best = {x.id: (tuple(o.id for o in x.options if o.points) if x.type == "multi" else max(x.options, key=lambda o: o.points).id)
            for x in dbi.questions if x.max_points}
    result = score(dbi, {**alone, **{k: v for k, v in best.items() if k not in STAFF_QUESTIONS}})
    assert result.percent == 100 and result.level == 5


def test_a_dont_know_option_scores_as_the_lowest_and_its_help_says_so(dbi, quick):
    for q in (dbi, quick):
        for x in q.questions:
            unknown = x.option("unknown")
            if unknown is None:
                continue
            assert unknown.points == 0 and unknown.label("vi") == "Không biết" and unknown.label("en") == "Don't know"
            assert x.help and "thấp nhất" in x.help("vi") and "lowest" in x.help("en"), x.id


def test_orders_are_a_multiple_choice_with_business_customers_and_internet_a_choice_of_kinds(dbi):
    orders, internet = dbi.question_by_id["c_orders"], dbi.question_by_id["i_internet"]
    assert orders.type == "multi" and orders.option("business_customers") and orders.max_points == 10
    assert internet.type == "multi" and {o.id for o in internet.options} == {"fibre", "wifi", "backup", "mobile_only", "unknown"}


# -- 2026.2: today's Đồng Nai ----------------------------------------------------------------

def test_the_commune_list_is_the_95_units_with_the_former_province_asked_first(dbi):
    import tomllib

    listed = tomllib.loads((REPO / "questionnaires" / "lists" / "dong-nai-communes-2025.toml").read_text(encoding="utf-8"))
    assert "1662/NQ-UBTVQH15" in listed["source"]
    items = listed["items"]
    assert len(items) == 95 and len({i["id"] for i in items}) == 95 and len({i["name"] for i in items}) == 95
    assert sum(i["name"].startswith("Phường ") for i in items) == 23 and sum(i["name"].startswith("Xã ") for i in items) == 72
    assert sum(i["group"] == "binh_phuoc" for i in items) == 40 and sum(i["group"] == "dong_nai" for i in items) == 55
    bp, dn = dbi.question_by_id["commune_bp"], dbi.question_by_id["commune_dn"]
    assert (len(bp.options), len(dn.options)) == (40, 55)
    assert bp.ask_if.any_of == ("binh_phuoc",) and dn.ask_if.any_of == ("dong_nai",)
    assert dbi.position["former_province"] < dbi.position["commune_bp"] < dbi.position["commune_dn"]
    assert dbi.breakdowns["former_province"].id == "former_province" and "district" not in dbi.question_by_id


def test_options_from_an_unknown_list_or_group_is_refused(tmp_path):
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "places.toml").write_text(
        'id = "places"\nsource = "made up"\n[[items]]\nid = "a"\nname = "Xã A"\ngroup = "north"\n'
        '[[items]]\nid = "b"\nname = "Phường B"\nname_en = "B Ward"\ngroup = "north"\n', encoding="utf-8")
    listed = TINY.replace('[[profile]]\nid = "nickname"', '[[profile]]\nid = "place"\ntype = "single"\n'
                          'text = { vi = "Ở đâu?", en = "Where?" }\noptions_from = { list = "places", group = "north" }\n\n'
                          '[[profile]]\nid = "nickname"', 1)
    q = loader.load(write_tiny(tmp_path, listed, TINY_FRAMEWORK))
    assert [(o.id, o.label("vi"), o.label("en")) for o in q.question_by_id["place"].options] == [
        ("a", "Xã A", "Xã A"), ("b", "Phường B", "B Ward")]
    found = problems(tmp_path, listed.replace('group = "north" }', 'group = "south" }'), TINY_FRAMEWORK)
    assert found == [(f"{tmp_path / 'tiny.toml'}: question 'place': options_from finds no items in lists/places.toml "
                      "of group 'south' — check the list's file name and the group")]
    assert any("lists/nowhere.toml: file not found" in p
               for p in problems(tmp_path, listed.replace('"places"', '"nowhere"'), TINY_FRAMEWORK))


def test_legal_form_and_the_2026_topics_are_asked(dbi, quick):
    for q in (dbi, quick):
        assert [o.id for o in q.question_by_id["legal_form"].options] == ["household", "enterprise", "cooperative", "unregistered"]
        assert q.question_by_id["i_einvoice"].option("cash_register") and q.question_by_id["c_egov"].option("vneid")
        assert q.question_by_id["k_scams"].option("no_otp") and q.question_by_id["k_scams"].option("recovery")


# -- 2026.2: spelling ----------------------------------------------------------------------

OLD_STYLE = re.compile(r"(?<![qQ])(o[áàảãạ]|u[ýỳỷỹỵ]|o[éèẻẽẹ])(?![^\W\d_])")


def test_texts_use_the_official_spelling_hoa_not_hoa_with_the_mark_on_a():
    files = [REPO / "sme_bot" / "messages.toml", *sorted((REPO / "questionnaires").glob("*.toml")),
             *sorted((REPO / "questionnaires" / "lists").glob("*.toml"))]
    for path in files:
        found = OLD_STYLE.findall(path.read_text(encoding="utf-8"))
        assert found == [], (path, found)
    assert not re.search(r"\bDNNVV\b", "".join(p.read_text(encoding="utf-8") for p in files[1:]))


def test_typed_answers_still_match_either_spelling(dbi):
    from sme_bot.flows.answers import parse

    assert parse(dbi.question_by_id["sector"], "tạp hoá") == parse(dbi.question_by_id["sector"], "tap hoa") == "retail"


# -- 2026.2: earlier versions stay explainable (design.md rule 3) ------------------------------

def test_a_result_stored_under_2026_1_is_explained_by_the_archived_file(tmp_path):
    from sme_bot.flows.engine import State, is_valid
    from sme_bot.scoring import score

    old = loader.load_version("dbi-sme", "2026.1")
    assert (old.id, old.version) == ("dbi-sme", "2026.1") and "district" in old.question_by_id
    answers = {"sector": "retail", "employees": 3.0, "district": "bu_dang", "i_internet": 30.0, "c_presence": ("facebook",)}
    stored = score(old, answers)  # what was stored then
    current = loader.load("dbi-sme")
    assert not is_valid(current, State(answers))  # today's file cannot read those answers…
    service_copy = Questionnaires(current).version("dbi-sme", "2026.1")
    assert service_copy is not None and score(service_copy, answers) == stored  # …the kept copy can
    assert Questionnaires(current).version("dbi-sme", "2026.2") is current
    assert Questionnaires(current).version("dbi-sme", "1999.9") is None
    with pytest.raises(QuestionnaireError) as caught:
        loader.load_version("quick-check", "1999.9")
    assert "no copy of quick-check 1999.9 is kept" in str(caught.value.problems[0])


def test_the_total_shown_counts_the_two_commune_questions_once(dbi):
    from types import MappingProxyType

    from sme_bot.flows import engine

    # Before the former province is known, one of the two commune questions will be asked, not both.
    assert engine.prompt(dbi, engine.State()).total == len(dbi.all_questions) - 1
    answers = {"business_name": None, "sector": "retail", "legal_form": "household", "employees": 1.0, "revenue": "to_3",
               "former_province": "elsewhere"}
    shown = engine.prompt(dbi, engine.State(MappingProxyType(answers)))
    assert shown.question.id == "years" and shown.total == len(engine.asked(dbi, answers))


@pytest.mark.parametrize("name", ["dbi-sme", "quick-check"])
def test_the_longest_choice_still_fits_a_phone_chat(name):
    # Telegram takes up to 100 buttons a message (one a row here, plus a row of Back/Done/Skip);
    # Zalo, with no buttons, gets the options numbered in one message of at most 2,000 characters.
    q = loader.load(name)
    for x in q.all_questions:
        assert len(x.options) < 100, x.id
        listing = "\n".join([x.text("vi"), x.help("vi") if x.help else "",
                             *(f"{i}. {o.label('vi')}" for i, o in enumerate(x.options, start=1))])
        assert len(listing.encode("utf-16-le")) // 2 < 1500, x.id
