"""The conversation engine: order, skip logic, back, skip, stale buttons, and random input."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sme_bot.flows import engine
from sme_bot.flows.engine import Ask, Finished, Reject


def run(q, *answers):
    turn = engine.start(q)
    for text in answers:
        turn = engine.answer(q, turn.state, text)
    return turn


def asked_id(turn):
    assert isinstance(turn.step, Ask | Reject)
    return turn.step.prompt.question.id


def test_progress_counts_the_questions_this_business_is_asked(tiny):
    turn = run(tiny)
    assert (turn.step.prompt.index, turn.step.prompt.total) == (1, 6)
    turn = run(tiny, "3")  # fewer than five people: no payroll question
    assert (turn.step.prompt.index, turn.step.prompt.total) == (2, 5)


def test_a_condition_on_a_multi_choice_skips_the_question(tiny):
    assert asked_id(run(tiny, "3", "Ba", "2")) == "books"
    assert asked_id(run(tiny, "3", "Ba", "1,2")) == "updates"


def test_a_number_condition_asks_the_question_from_its_minimum(tiny):
    assert asked_id(run(tiny, "5", "Ba", "2", "1")) == "payroll"
    assert isinstance(run(tiny, "4", "Ba", "2", "1").step, Finished)


def test_a_rejected_answer_keeps_the_state_and_asks_again(tiny):
    before = run(tiny)
    after = engine.answer(tiny, before.state, "99999")
    assert isinstance(after.step, Reject) and after.state == before.state and after.recorded is None
    assert asked_id(after) == "staff"


def test_back_withdraws_the_previous_answer_and_asks_it_again(tiny):
    turn = run(tiny, "3", "Ba")
    back = engine.back(tiny, turn.state)
    assert asked_id(back) == "nickname"
    assert back.recorded == ("nickname", None) and back.withdrawn
    assert "nickname" not in back.state.answers and back.state.answers["staff"] == 3


def test_back_on_the_first_question_says_there_is_nothing_to_undo(tiny):
    turn = engine.back(tiny, engine.start(tiny).state)
    assert isinstance(turn.step, Reject) and turn.step.reason.key == "nothing_to_undo"


def test_back_after_the_end_reopens_the_last_question(tiny):
    done = run(tiny, "3", "Ba", "2", "1")
    assert isinstance(done.step, Finished)
    assert asked_id(engine.back(tiny, done.state)) == "books"


def test_changing_an_earlier_answer_drops_a_question_it_no_longer_allows(tiny):
    turn = run(tiny, "3", "Ba", "1")  # Zalo: the updates question follows
    assert asked_id(turn) == "updates"
    turn = engine.back(tiny, turn.state)
    turn = engine.answer(tiny, turn.state, "2")
    assert asked_id(turn) == "books"


def test_only_optional_questions_can_be_skipped(tiny):
    turn = engine.skip(tiny, engine.start(tiny).state)
    assert isinstance(turn.step, Reject) and turn.step.reason.key == "required"
    turn = engine.skip(tiny, run(tiny, "3").state)
    assert turn.recorded == ("nickname", None) and asked_id(turn) == "channels"


def test_a_stale_button_does_not_change_the_answer(tiny):
    turn = run(tiny, "3", "Ba")
    stale = engine.choose(tiny, turn.state, "staff", 7)
    assert isinstance(stale.step, Reject) and stale.step.reason.key == "stale"
    assert stale.state == turn.state and stale.recorded is None


def test_a_button_for_the_current_question_is_taken(tiny):
    turn = engine.choose(tiny, run(tiny, "3", "Ba").state, "channels", ["shop"])
    assert turn.recorded == ("channels", ("shop",))


def test_input_after_the_end_is_refused_politely(tiny):
    done = run(tiny, "3", "Ba", "2", "1")
    turn = engine.answer(tiny, done.state, "1")
    assert isinstance(turn.step, Reject) and turn.step.reason.key == "finished" and turn.state == done.state


ACTIONS = st.one_of(
    st.tuples(st.just("answer"), st.one_of(st.text(max_size=60), st.integers(-5, 20).map(str),
                                           st.sampled_from(["1,2", "khong", "có", "2 3", "1.000", "1,5", ""]))),
    st.tuples(st.just("back"), st.none()),
    st.tuples(st.just("skip"), st.none()),
    st.tuples(st.just("choose"), st.tuples(st.sampled_from(["staff", "channels", "books", "nope"]),
                                           st.one_of(st.text(max_size=5), st.lists(st.text(max_size=5)),
                                                     st.integers())),),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTIONS, max_size=40))
def test_random_input_never_raises_and_the_state_stays_valid(tiny, actions):
    state = engine.start(tiny).state
    for kind, arg in actions:
        if kind == "answer":
            turn = engine.answer(tiny, state, arg)
        elif kind == "back":
            turn = engine.back(tiny, state)
        elif kind == "skip":
            turn = engine.skip(tiny, state)
        else:
            turn = engine.choose(tiny, state, *arg)
        assert engine.is_valid(tiny, turn.state)
        if isinstance(turn.step, Ask):
            assert turn.step.prompt.question.id not in turn.state.answers
            assert 1 <= turn.step.prompt.index <= turn.step.prompt.total
        if turn.recorded is None:
            assert turn.state == state
        state = turn.state


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_random_valid_choices_always_reach_the_end_of_the_real_questionnaire(data):
    from sme_bot import loader

    q = loader.load("dbi-sme")
    turn = engine.start(q)
    for _ in range(len(q.all_questions)):
        if isinstance(turn.step, Finished):
            break
        question = turn.step.prompt.question
        if question.type == "number":
            text = str(data.draw(st.integers(int(question.min), int(question.max))))
        elif question.type == "text":
            text = data.draw(st.text(alphabet="abc đê", min_size=1, max_size=20)).strip() or "x"
        else:
            text = str(data.draw(st.integers(1, len(question.options) - (question.type == "multi"))))
        turn = engine.answer(q, turn.state, text)
        assert not isinstance(turn.step, Reject), turn.step
    assert isinstance(turn.step, Finished)
