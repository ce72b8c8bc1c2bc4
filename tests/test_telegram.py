"""The owner's journey on Telegram: the real python-telegram-bot Application, a fake Bot API."""

import json
import logging
import sqlite3
from datetime import timedelta

import pytest
from conftest import ADMIN
from fake_bot_api import TOKEN, Owner, asked, buttons, texts

from sme_bot import loader
from sme_bot.scoring import score


def rows(harness, sql, params=()):
    return harness.store.db.execute(sql, params).fetchall()


def last_question_buttons(calls):
    asked = [c for c in calls if c.method == "sendMessage" and buttons(c)]
    return buttons(asked[-1])


def agree(harness, owner, code=None):
    start = harness.say(owner, "/start" + (f" {code}" if code else ""))
    consent = {label: data for label, data in buttons(start[-1])}
    return harness.tap(owner, consent["Tôi đồng ý"] if "Tôi đồng ý" in consent else consent["I agree"])


def test_start_greets_in_vietnamese_offers_english_and_stores_nothing(make_bot):
    bot = make_bot()
    calls = bot.say(Owner(1), "/start")
    greeting, _consent = texts(calls)
    # As many as the first question will say ("Câu 1/20"): the most this business can be asked.
    assert greeting.startswith("Xin chào!") and "tối đa 20 câu hỏi" in greeting and "khoảng 5 phút" in greeting
    assert "Chương trình hỗ trợ" in greeting
    assert [label for label, _ in buttons(calls[-1])] == ["Tôi đồng ý", "Chỉ đồng ý (1), không chia sẻ",
                                                          "Tôi không đồng ý", "English"]
    assert rows(bot, "select count(*) from respondents") == [(0,)]


def test_english_is_offered_before_consent(make_bot):
    bot = make_bot()
    start = bot.say(Owner(1), "/start")
    english = dict(buttons(start[-1]))["English"]
    calls = bot.tap(Owner(1), english)
    assert texts(calls)[0].startswith("Hello!") and ("I agree", "c:1:en:") in last_question_buttons(calls)


def test_declining_consent_stores_nothing_and_says_how_to_come_back(make_bot):
    bot = make_bot()
    start = bot.say(Owner(1), "/start")
    calls = bot.tap(Owner(1), dict(buttons(start[-1]))["Tôi không đồng ý"])
    assert "Không có gì được lưu" in texts(calls)[0]
    assert rows(bot, "select count(*) from respondents") == [(0,)]
    assert "Vui lòng chọn" in texts(bot.say(Owner(1), "3"))[0]
    assert rows(bot, "select count(*) from answers") == [(0,)]


def test_consent_is_stored_with_version_and_time_then_the_first_question_comes(make_bot, clock):
    bot = make_bot()
    calls = agree(bot, Owner(1))
    stamp = clock.now.isoformat()
    assert rows(bot, "select purpose, text_version, agreed, at from consents") == [
        ("result", "2026-11-25", 1, stamp), ("staff", "2026-11-25", 1, stamp)]
    question = texts(calls)[-1]
    assert question.startswith("Câu 1/20 · Thông tin doanh nghiệp") and "Lĩnh vực hoạt động chính?" in question
    assert ("Bán lẻ, bán buôn, tạp hóa", "a:1:0:0") in last_question_buttons(calls)


def answer_all(bot, owner, q, pick):
    """Answer every question: by button where there are options, typed otherwise."""
    calls = []
    for _ in range(len(q.all_questions) + 2):
        asked = [c for c in bot.api.calls if c.method == "sendMessage"][-1]
        if asked.params["text"].startswith(("Kết quả", "Result")):
            break
        choices = buttons(asked)
        calls += pick(asked, choices)
    return calls


def test_a_whole_assessment_in_vietnamese_is_stored_with_the_result_score_gives(make_bot):
    bot = make_bot("dbi-sme")
    owner = Owner(7)
    q = loader.load("dbi-sme")
    agree(bot, owner)

    def pick(asked, choices):
        options = [data for _, data in choices if data.startswith(("a:", "t:"))]
        if not options:
            return bot.say(owner, "25" if "số" in asked.params["text"] else "Cơ sở May Hoà")
        if options[0].startswith("t:"):
            bot.tap(owner, options[0])
            return bot.tap(owner, next(d for _, d in choices if d.startswith("d:")))
        return bot.tap(owner, options[len(options) // 2])

    answer_all(bot, owner, q, pick)
    (aid, status, version), = rows(bot, "select id, status, questionnaire_version from assessments")
    assert (status, version) == ("completed", q.version)
    stored = bot.store.assessments.answers(aid)
    expected = score(q, stored)
    (level, points, detail), = rows(bot, "select level, points, detail from results")
    assert (level, points) == (expected.level, expected.points)
    assert json.loads(detail)["pillars"] == json.loads(expected.model_dump_json())["pillars"]


def test_a_whole_assessment_in_english_matches_the_console_and_sme_bot_score(make_bot, tmp_path):
    from conftest import sme_bot

    bot = make_bot()
    owner = Owner(8)
    start = bot.say(owner, "/start")
    bot.tap(owner, dict(buttons(start[-1]))["English"])
    bot.tap(owner, "c:1:en:")
    # The café of examples/persona-cafe-quick-en.txt.
    typed = ["food", "6", "household", "1", "1,2", "transfer, e-wallet", "1,2", "3", "1,2", "2", "cash register", "1,2",
             "3", "zalo groups", "3", "1,2", "3", "3", "no"]
    for text in typed:
        calls = bot.say(owner, text)
    assert texts(calls)[0].startswith("Result: Level 3 · Forming")
    (aid,), = rows(bot, "select id from assessments")
    (tmp_path / "answers.json").write_text(json.dumps(bot.store.assessments.answers(aid)))
    cli = json.loads(sme_bot("score", "quick-check", "--answers", str(tmp_path / "answers.json")).stdout)
    console_db = tmp_path / "console.db"
    sme_bot("console", "-q", "quick-check", "--lang", "en", "--db", str(console_db),
            stdin="\n".join(["1", *typed]) + "\n")
    console_row = sqlite3.connect(console_db).execute("select level, points from results").fetchone()
    assert rows(bot, "select level, points from results")[0] == (cli["level"], cli["points"]) == console_row


def test_a_tap_brings_the_next_question_first_quoting_the_answer_then_the_old_buttons_go(make_bot):
    bot = make_bot()
    owner = Owner(1)
    first = agree(bot, owner)
    question_message = [c for c in first if c.method == "sendMessage"][-1]
    calls = bot.tap(owner, "a:1:0:1")
    # One call on the way to the next question (the tap's answer costs none of the send budget),
    # and the chat still reads as a record: the answer quoted on top of the question it led to.
    assert [c.method for c in calls] == ["answerCallbackQuery", "sendMessage", "editMessageText"]
    assert texts(calls)[0].startswith("✅ Ăn uống, cà phê, nhà hàng\n\nCâu 2/")
    # Then, with budget to spare, the answered question shows its answer and loses its buttons.
    edit = calls[-1]
    assert edit.params["message_id"] == question_message.message_id
    assert edit.params["text"] == question_message.params["text"] + "\n\n✅ Ăn uống, cà phê, nhà hàng"
    assert "reply_markup" not in edit.params


def test_the_earlier_behaviour_edits_before_sending_when_asked(make_bot):
    """The baseline the workshop benchmark compares against: two calls in a row per answer."""
    bot = make_bot(eager_edits=True)
    owner = Owner(1)
    agree(bot, owner)
    calls = bot.tap(owner, "a:1:0:1")
    assert [c.method for c in calls] == ["answerCallbackQuery", "editMessageText", "sendMessage"]


def test_buttons_that_no_longer_mean_anything_are_removed(make_bot):
    bot = make_bot()
    owner = Owner(1)
    start = bot.say(owner, "/start")
    # The request in the other language replaces the one tapped, whose buttons go.
    calls = bot.process(owner.tap(bot.next_id(), dict(buttons(start[-1]))["English"], message_id=7))
    assert calls[-1].method == "editMessageReplyMarkup" and calls[-1].params == {"chat_id": 1, "message_id": 7}
    # Agreeing: the request stays in the chat with the choice written in, its buttons gone.
    calls = bot.process(owner.tap(bot.next_id(), "c:1:en:", message_id=8))
    consent = next(c for c in calls if c.method == "editMessageText")
    assert consent.params["message_id"] == 8 and consent.params["text"].endswith("\n\n✅ I agree")
    assert "reply_markup" not in consent.params
    question = [c for c in calls if c.method == "sendMessage"][-1]
    # The question after /back or a language switch replaces the one on screen, whose buttons go.
    calls = bot.say(owner, "/lang")
    assert asked(calls).startswith("Câu 1/")
    assert question.params["text"].startswith("Question 1/")
    assert calls[-1].method == "editMessageReplyMarkup" and calls[-1].params["message_id"] == question.message_id
    bot.tap(owner, "a:1:0:0")
    question = [c for c in bot.api.calls if c.method == "sendMessage"][-1]
    calls = bot.say(owner, "/back")
    assert asked(calls).startswith("Câu 1/")
    assert calls[-1].method == "editMessageReplyMarkup" and calls[-1].params["message_id"] == question.message_id
    # A confirmation's buttons go once tapped.
    bot.say(owner, "/restart")
    calls = bot.process(owner.tap(bot.next_id(), "r:1", message_id=9))
    assert {"chat_id": 1, "message_id": 9} in [c.params for c in calls if c.method == "editMessageReplyMarkup"]


def test_multiple_choice_toggles_with_ticks_and_a_done_button(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    bot.tap(owner, "a:1:0:0")
    for text in ("4", "1", "1"):  # employees, legal form, revenue
        bot.say(owner, text)
    calls = bot.tap(owner, "t:1:5:0")
    markup = next(c for c in calls if c.method == "editMessageReplyMarkup")
    assert buttons(markup)[0][0].startswith("✓ Zalo OA")
    calls = bot.tap(owner, "t:1:5:4")  # "Nowhere yet" clears the others
    labels = [label for label, _ in buttons(next(c for c in calls if c.method == "editMessageReplyMarkup"))]
    assert labels[4].startswith("✓") and not labels[0].startswith("✓")
    bot.tap(owner, "t:1:5:1")
    bot.tap(owner, "t:1:5:3")
    calls = bot.tap(owner, "d:1:5")
    assert bot.store.assessments.answers(1)["c_presence"] == ("maps", "marketplace")
    assert asked(calls).startswith("Câu 6/19")  # capital is not asked: revenue is up to 3 billion VND


def test_typed_answers_ignore_case_and_diacritics(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    bot.say(owner, "BAN LE")
    assert bot.store.assessments.answers(1) == {"sector": "retail"}


def test_a_stale_button_or_a_double_tap_changes_nothing(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    bot.tap(owner, "a:1:0:0")
    for stale in ("a:1:0:3", "a:1:0:0", "a:99:1:0", "zz:1", "a:1:x:0"):
        calls = bot.tap(owner, stale)
        answer = next(c for c in calls if c.method == "answerCallbackQuery")
        assert "câu hỏi cũ" in answer.params.get("text", "")
        assert not texts(calls)
    assert bot.store.assessments.answers(1) == {"sector": "retail"}


def test_a_repeated_update_is_processed_once(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    update = owner.tap(bot.next_id(), "a:1:0:0")
    assert texts(bot.process(update))
    # Handled before a restart, sent again after it (its offset was never confirmed): ignored,
    # but the tap is still acknowledged, or the phone shows a spinner.
    assert [c.method for c in bot.process(update)] == ["answerCallbackQuery"]
    assert len(bot.store.assessments.answer_history(1)) == 1


@pytest.mark.parametrize("extra", [
    {"photo": [{"file_id": "x", "file_unique_id": "x", "width": 1, "height": 1}]},
    {"sticker": {"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1, "is_animated": False,
                 "is_video": False, "type": "regular"}},
    {"voice": {"file_id": "v", "file_unique_id": "v", "duration": 2}},
])
def test_photos_stickers_and_voice_get_a_short_reply(make_bot, extra):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    calls = bot.process(owner.message(bot.next_id(), None, **extra))
    assert texts(calls) == ["Bot chỉ đọc chữ và nút bấm. Hãy trả lời câu hỏi bằng nút hoặc gõ câu trả lời."]
    assert bot.store.assessments.answers(1) == {}


def test_a_very_long_message_and_an_edited_one_get_short_replies(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    (reply,) = texts(bot.say(owner, "x" * 5000))
    assert len(reply) < 200
    edited = owner.message(bot.next_id(), "1")
    edited["edited_message"] = edited.pop("message")
    assert "Tin nhắn đã sửa" in texts(bot.process(edited))[0]
    assert bot.store.assessments.answers(1) == {}


def test_every_button_fits_telegrams_64_bytes(make_bot):
    bot = make_bot("dbi-sme")
    owner = Owner(2_000_000_000)
    agree(bot, owner, code="HOI-NGHI-DONG-XOAI-2026-THANG-11")
    for _ in range(12):
        bot.say(owner, "1")
    for call in bot.api.calls:
        for _, data in buttons(call):
            assert len(data.encode()) <= 64


def test_back_restart_lang_and_cancel(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    bot.say(owner, "1")
    assert asked(bot.say(owner, "/back")).startswith("Câu 1/20")
    assert bot.store.assessments.answers(1) == {}
    bot.say(owner, "2")
    assert "Question 2/20" in texts(bot.say(owner, "/lang"))[-1]
    confirm = bot.say(owner, "/restart")
    assert [label for label, _ in buttons(confirm[-1])] == ["Yes", "No"]
    assert texts(bot.tap(owner, "r:0")) == ["Nothing was changed."]
    assert texts(bot.tap(owner, "r:1"))[-1].startswith("Question 1/20")
    assert rows(bot, "select id, status from assessments") == [(1, "abandoned"), (2, "in_progress")]
    assert "cancelled" in texts(bot.say(owner, "/cancel"))[0]
    assert rows(bot, "select status from assessments where id = 2") == [("cancelled",)]


def test_help_privacy_and_unknown_commands_answer_politely(make_bot):
    bot = make_bot()
    owner = Owner(1)
    assert "/delete" in texts(bot.say(owner, "/help"))[0]
    assert "2026-11-25" in texts(bot.say(owner, "/privacy"))[0]
    agree(bot, owner)
    assert "/back" in texts(bot.say(owner, "/frobnicate"))[0]


QUICK = ("1", "4", "1", "1", "1,2", "1", "1", "3", "1", "2", "2", "1", "3", "3", "3", "1", "3", "3", "1")


def finish_quick(bot, owner, answers=QUICK):
    calls = []
    for text in answers:
        calls = bot.say(owner, text)
    return calls


def test_the_result_has_stage_pillars_steps_and_a_chart(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    calls = finish_quick(bot, owner)
    result = texts(calls)[-1]
    assert result.startswith("Kết quả: Mức") and "• Chiến lược: Mức" in result and "Bước tiếp theo nên làm" in result
    assert sum(line[:2] in {f"{i}." for i in range(1, 6)} for line in result.splitlines()) == 5
    photo = next(c for c in calls if c.method == "sendPhoto")
    # Captioned: what the bars and the dashed lines are.
    assert photo.params["caption"].startswith("Kết quả Mức") and "các đường đứt nét là ngưỡng" in photo.params["caption"]
    assert ("Đề nghị chương trình hỗ trợ", "s:1") in buttons([c for c in calls if c.method == "sendMessage"][-1])
    assert texts(bot.say(owner, "/result"))[0] == result


def test_the_result_text_arrives_when_the_photo_cannot_be_sent(make_bot, caplog):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    bot.api.fail("sendPhoto", 400)
    with caplog.at_level(logging.WARNING, "sme_bot.telegram"):
        calls = finish_quick(bot, owner)
    assert texts(calls)[-1].startswith("Kết quả")
    assert "chart not sent" in caplog.text


def test_the_chart_is_a_real_png_of_the_six_pillars(make_bot, tmp_path):
    from sme_bot.chart import result_png

    q = loader.load("quick-check")
    png = result_png(score(q, {"s_plan": "plan", "k_skills": "office"}), "vi", levels=q.levels)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    (tmp_path / "chart.png").write_bytes(png)


def markup(call):
    value = call.params.get("reply_markup")
    return json.loads(value) if isinstance(value, str) else value


def test_request_support_asks_how_to_reach_the_owner_with_telegrams_share_contact_button(make_bot):
    bot = make_bot()
    owner, other = Owner(1), Owner(2)
    for person in (owner, other):
        agree(bot, person)
        finish_quick(bot, person)
    asked = bot.tap(owner, "s:1")
    how = next(c for c in asked if c.method == "sendMessage")
    assert how.params["text"].startswith("Cán bộ chương trình liên hệ với bạn thế nào?")
    # Under the typing field: share the phone number Telegram knows, or be messaged here.
    assert markup(how)["keyboard"] == [[{"text": "Gửi số điện thoại của tôi", "request_contact": True}],
                                       [{"text": "Nhắn tôi ở đây"}]]
    assert rows(bot, "select count(*) from support_requests") == [(0,)]
    shared = {"phone_number": "+84912000111", "first_name": "An", "user_id": owner.id}
    recorded = bot.process(owner.message(bot.next_id(), contact=shared))
    assert "Đã ghi nhận đề nghị hỗ trợ" in texts(recorded)[0]
    assert markup(recorded[-1]) == {"remove_keyboard": True}  # the buttons go with the question
    assert "đã được ghi nhận trước đó" in texts(bot.tap(owner, "s:1"))[0]
    bot.tap(other, "s:2")
    assert "Đã ghi nhận đề nghị hỗ trợ" in texts(bot.say(other, "Nhắn tôi ở đây"))[0]
    requests = rows(bot, "select assessment_id, pillars, status, contact from support_requests order by id")
    assert [(aid, status, contact) for aid, _, status, contact in requests] == [
        (1, "new", "+84912000111"), (2, "new", "nhắn trong Telegram")]
    assert all(len(json.loads(pillars)) == 2 for _, pillars, _, _ in requests)
    # A contact shared when nobody asked for one is not kept anywhere.
    assert "chỉ đọc chữ" in texts(bot.process(owner.message(bot.next_id(), contact=shared)))[0]
    assert rows(bot, "select count(*) from support_requests where contact = '+84912000111'") == [(1,)]


def test_retaking_shows_the_change_pillar_by_pillar(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    finish_quick(bot, owner)
    bot.say(owner, "/restart")
    bot.tap(owner, "r:1")
    calls = finish_quick(bot, owner, ("1", "4", "1", "1", "1,2,3,4", "1,2,3", "1,2,3", "5", "1,2,3", "5", "4", "1,2,3,4",
                                      "5", "5", "5", "1,2,3,4,5", "5", "5", "1"))
    result = texts(calls)[-1]
    assert "So với lần trước: Mức" in result and "• Chiến lược: 50.0% → 100.0% (+50.0)" in result


def test_delete_removes_every_personal_row_and_records_the_deletion(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    finish_quick(bot, owner)
    bot.tap(owner, "s:1")
    bot.say(owner, "/delete")
    assert "Đã xóa" in texts(bot.tap(owner, "x:1"))[0]
    for table in ("respondents", "consents", "assessments", "answers", "results", "support_requests", "chats"):
        assert rows(bot, f"select count(*) from {table}") == [(0,)], table
    (channel, removed), = rows(bot, "select channel, rows from deletions")
    assert channel == "telegram" and removed > 12
    assert bot.remind() == []


def test_one_reminder_after_24_hours_with_a_continue_button(make_bot, clock):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    bot.say(owner, "1")
    clock.now += timedelta(hours=23)
    assert bot.remind() == []
    clock.now += timedelta(hours=2)
    (reminder,) = bot.remind()
    assert "1 câu đã trả lời" in reminder.params["text"] and buttons(reminder) == [("Tiếp tục", "n:1")]
    clock.now += timedelta(days=3)
    assert bot.remind() == []
    assert asked(bot.tap(owner, "n:1")).startswith("Câu 2/20")


def test_reminders_survive_a_restart_and_stop_after_cancel(make_bot, clock):
    bot = make_bot()
    for owner_id in (1, 2):
        agree(bot, Owner(owner_id))
    bot.say(Owner(2), "/cancel")
    clock.now += timedelta(hours=25)
    restarted = make_bot()  # a new process on the same database
    sent = restarted.remind()
    assert [int(c.params["chat_id"]) for c in sent] == [1]


def test_a_restarted_bot_continues_at_the_same_question(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    for text in ("1", "4", "1", "1"):  # sector, employees, legal form, revenue
        bot.say(owner, text)
    restarted = make_bot()
    calls = restarted.tap(owner, "t:1:5:0")
    assert any(c.method == "editMessageReplyMarkup" for c in calls)
    assert asked(restarted.say(owner, "2,3")).startswith("Câu 6/19")
    assert restarted.store.assessments.answers(1) == {"sector": "retail", "employees": 4, "legal_form": "household",
                                                      "revenue": "to_3", "size": "micro", "c_presence": ("maps", "website")}


def test_a_deep_link_joins_a_known_cohort_and_ignores_an_unknown_one(make_bot):
    bot = make_bot()
    bot.store.db["cohorts"].insert({"code": "DX2026", "name": "Hội nghị Đồng Xoài"})
    calls = agree(bot, Owner(1), code="DX2026")
    assert "Bài đánh giá được ghi vào nhóm DX2026." in texts(calls)
    calls = agree(bot, Owner(2), code="NOPE")
    assert any("không có trong danh sách" in t for t in texts(calls))
    assert rows(bot, "select cohort from assessments order by id") == [("DX2026",), (None,)]


def test_flood_control_is_waited_out_and_the_message_still_arrives(make_bot):
    bot = make_bot(rate_limit=True)
    owner = Owner(1)
    agree(bot, owner)
    bot.api.fail("sendMessage", 429)
    calls = bot.say(owner, "1")
    assert [c.method for c in calls if c.method == "sendMessage"] == ["sendMessage", "sendMessage"]
    assert asked(calls).startswith("Câu 2/20")


def test_a_blocked_bot_or_a_time_out_loses_no_answer_and_crashes_nothing(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    bot.api.fail("sendMessage", 403)
    bot.say(owner, "1")
    assert rows(bot, "select blocked from chats") == [(1,)]
    bot.api.fail("sendMessage", "timeout", "timeout")
    calls = bot.say(owner, "4")  # the question it answers never reached the owner: shown, not answered
    assert asked(calls).startswith("Câu 2/20") and bot.store.assessments.answers(1) == {"sector": "retail"}
    bot.api.fail("sendMessage", "timeout", "timeout")
    calls = bot.say(owner, "4")  # tried again, and the next question still arrives
    assert [c.method for c in calls].count("sendMessage") == 3 and asked(calls).startswith("Câu 3/20")
    bot.api.fail("sendMessage", *["timeout"] * 4)  # a network down for longer than the retries
    bot.say(owner, "1")
    answers = {"sector": "retail", "employees": 4, "legal_form": "household"}
    assert bot.store.assessments.answers(1) == answers
    # The owner, not seeing question 4, repeats the last answer: it is not taken for question 4's.
    assert asked(bot.say(owner, "1")).startswith("Câu 4/20") and bot.store.assessments.answers(1) == answers
    assert asked(bot.say(owner, "1")).startswith("Câu 5/19")


def test_a_tap_telegram_will_not_acknowledge_still_moves_the_owner_on(make_bot):
    bot = make_bot()
    owner = Owner(1)
    first = last_question_buttons(agree(bot, owner))
    bot.api.fail("answerCallbackQuery", 400)  # as for a tap answered too late, after a restart
    calls = bot.tap(owner, first[0][1])
    assert asked(calls).startswith("Câu 2/20") and bot.store.assessments.answers(1) == {"sector": "retail"}


def test_a_stale_tap_while_the_current_question_never_arrived_shows_it(make_bot):
    bot = make_bot()
    owner = Owner(1)
    first = last_question_buttons(agree(bot, owner))
    bot.api.fail("sendMessage", *["timeout"] * 4)
    bot.tap(owner, first[0][1])  # stored; question 2 lost on the way
    calls = bot.tap(owner, first[1][1])  # the owner, still seeing question 1, taps again
    assert asked(calls).startswith("Câu 2/20") and bot.store.assessments.answers(1) == {"sector": "retail"}
    again = bot.tap(owner, first[1][1])  # now question 2 is on screen: a toast, and the old buttons go
    assert [c.method for c in again] == ["answerCallbackQuery", "editMessageReplyMarkup"]
    assert again[1].params == {"chat_id": 1, "message_id": 1}  # the message tapped, its buttons removed


def test_logs_name_updates_but_no_personal_data(make_bot, caplog):
    from sme_bot.channels.telegram.app import configure_logging

    bot = make_bot()
    owner = Owner(424242, first_name="Nguyễn Thị Hoa")
    configure_logging()
    with caplog.at_level(logging.INFO):
        agree(bot, owner)
        bot.say(owner, "Tiệm bánh bí mật")
    assert "update" in caplog.text and ": start" in caplog.text
    for secret in ("424242", "Nguyễn Thị Hoa", "bí mật", TOKEN.split(":")[1]):
        assert secret not in caplog.text


def test_sends_to_one_chat_are_spaced_while_other_chats_are_not_held_up():
    import asyncio
    import time as clock_time

    from sme_bot.channels.telegram.ratelimit import PER_CHAT_BURST, ChatRateLimiter

    async def run(chat_ids):
        limiter = ChatRateLimiter()
        await limiter.initialize()

        async def send():
            return True

        begun = clock_time.monotonic()
        await asyncio.gather(*(limiter.process_request(send, (), {}, "sendMessage", {"chat_id": c}, None)
                               for c in chat_ids))
        return clock_time.monotonic() - begun

    one_chat = asyncio.run(run([42] * (PER_CHAT_BURST + 3)))
    many_chats = asyncio.run(run(list(range(1, PER_CHAT_BURST + 4))))
    assert one_chat >= 2.5  # a burst of three, then about one a second
    assert many_chats < one_chat


def test_updates_of_one_chat_run_in_order_and_other_chats_run_alongside():
    import asyncio

    from telegram import Update

    from sme_bot.channels.telegram.updates import PerChatUpdateProcessor

    def update(update_id, chat_id):
        return Update.de_json(Owner(chat_id).message(update_id, "hi"), None)

    async def run():
        processor = PerChatUpdateProcessor()
        log = []

        async def handle(name, delay):
            log.append(f"{name} start")
            await asyncio.sleep(delay)
            log.append(f"{name} end")

        await asyncio.gather(processor.process_update(update(1, 7), handle("7a", 0.2)),
                             processor.process_update(update(2, 7), handle("7b", 0)),
                             processor.process_update(update(3, 8), handle("8a", 0)))
        return log, processor._locks

    log, locks = asyncio.run(run())
    assert log.index("7a end") < log.index("7b start")  # one chat: in order
    assert log.index("8a end") < log.index("7a end")  # another chat: not held up
    assert locks == {}  # idle chats forgotten


def test_admins_get_stats_and_an_xlsx_export(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    finish_quick(bot, owner)
    (stats,) = texts(bot.say(Owner(ADMIN), "/stats"))
    assert stats.startswith("tất cả các nhóm: 1 bắt đầu, 1 hoàn thành (100.0%)")
    calls = bot.say(Owner(ADMIN), "/export")
    assert [c.method for c in calls] == ["sendDocument"]
    assert texts(bot.say(Owner(ADMIN), "/stats NOPE"))[0].startswith("unknown cohort 'NOPE'")


def test_anyone_else_gets_a_polite_refusal_and_nothing_else(make_bot):
    bot = make_bot()
    owner = Owner(1)
    agree(bot, owner)
    finish_quick(bot, owner)
    for command in ("/stats", "/export", "/stats DX"):
        calls = bot.say(owner, command)
        assert [c.method for c in calls] == ["sendMessage"]
        assert texts(calls) == ["Lệnh này chỉ dành cho cán bộ chương trình."]
