"""`sme-bot staff add|list|remove|passwd`, and the account rules behind them (sme_bot.accounts)."""

import pytest
from conftest import rows, sme_bot
from staff_site import CHEAP

from sme_bot.accounts import Accounts
from sme_bot.errors import StaffError
from sme_bot.storage import Store

GOOD = "Hoa-sen-2026-xyz"


def test_add_list_passwd_remove_and_each_is_audited(tmp_path):
    db = str(tmp_path / "s.db")
    added = sme_bot("staff", "add", "Lan", "--role", "admin", "--password-stdin", "--db", db, stdin=GOOD + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stderr == "Đã thêm tài khoản lan (admin)\n"  # Vietnamese first
    # On a terminal it asks twice, without echo; --lang en says it in English.
    asked = sme_bot("staff", "add", "minh", "--role", "viewer", "--db", db, "--lang", "en",
                    stdin=f"{GOOD}-2\n{GOOD}-2\n")
    assert asked.returncode == 0 and asked.stdout.count("Password") == 1 and "Repeat for confirmation" in asked.stdout
    assert asked.stderr == "account minh (viewer) added\n"
    listed = sme_bot("staff", "list", "--db", db)
    assert [line.split("\t")[:2] for line in listed.stdout.splitlines()] == [["lan", "admin"], ["minh", "viewer"]]
    ((stored,),) = rows(db, "select password_hash from staff_accounts where name = 'lan'")
    assert stored.startswith("$argon2id$") and GOOD not in stored
    assert sme_bot("staff", "passwd", "lan", "--password-stdin", "--db", db, stdin="Another-pass-2026\n").returncode == 0
    assert rows(db, "select password_hash from staff_accounts where name = 'lan'") != [(stored,)]
    assert sme_bot("staff", "remove", "minh", "--db", db).returncode == 0
    assert rows(db, "select name from staff_accounts") == [("lan",)]
    trail = rows(db, "select account, action, detail from staff_audit order by id")
    assert [row[:2] for row in trail] == [("lan", "account_added"), ("minh", "account_added"),
                                          ("lan", "password_changed"), ("minh", "account_removed")]
    assert all(detail.startswith(("role ", "command line")) or "command line" in detail for _, _, detail in trail)


@pytest.mark.parametrize(("args", "stdin", "error"), [
    (["add", "lan", "--role", "admin", "--password-stdin"], "short\n", "the password is too short (5 characters)"),
    (["add", "lan", "--role", "admin", "--password-stdin"], "\n", "the password is empty"),
    (["add", "lan", "--role", "admin", "--password-stdin"], "aaaaaaaaaaaa\n", "the password is too easy to guess"),
    (["add", "lan", "--role", "admin", "--password-stdin"], "my-lan-password\n", "the password is too easy to guess"),
    (["add", "old", "--role", "admin", "--password-stdin"], GOOD + "\n", "an account named old exists already"),
    (["add", "bad name", "--role", "admin", "--password-stdin"], GOOD + "\n", "the name 'bad name' cannot be used"),
    (["remove", "nobody"], None, "no account named 'nobody' (accounts: old)"),
    (["passwd", "nobody", "--password-stdin"], GOOD + "\n", "no account named 'nobody' (accounts: old)"),
])
def test_each_mistake_is_one_line(tmp_path, args, stdin, error):
    db = str(tmp_path / "s.db")
    assert sme_bot("staff", "add", "old", "--role", "viewer", "--password-stdin", "--db", db,
                   stdin=GOOD + "\n").returncode == 0
    ran = sme_bot("staff", *args, "--db", db, stdin=stdin)
    assert ran.returncode == 1
    assert ran.stderr.startswith(f"Error: {error}") and ran.stderr.count("\n") == 1, ran.stderr
    assert rows(db, "select name from staff_accounts") == [("old",)]


def test_every_staff_command_explains_itself_with_an_example():
    for command in ("add", "list", "remove", "passwd"):
        shown = sme_bot("staff", command, "--help").stdout
        assert f"sme-bot staff {command}" in shown.split("Options:")[0].split("\n", 2)[2], command
    assert "sme-bot staff add lan --role admin" in sme_bot("staff", "--help").stdout


def test_an_unknown_name_costs_a_verification_too(tmp_path):
    """A failure for an unknown name, a locked account or a wrong password takes the same work."""
    calls = []

    class Counting(type(CHEAP)):
        def verify(self, hash, password):
            calls.append(hash)
            return super().verify(hash, password)

    store = Store(tmp_path / "s.db")
    try:
        accounts = Accounts(store, password_hasher=Counting(time_cost=1, memory_cost=8, parallelism=1))
        accounts.add("lan", "admin", GOOD, by="test")
        for name in ("nobody", "lan"):
            assert accounts.sign_in(name, "wrong-password", address="test").account is None
        assert len(calls) == 2 and all(hash.startswith("$argon2id$") for hash in calls)
        with pytest.raises(StaffError, match="unknown role"):
            accounts.add("minh", "owner", GOOD, by="test")
    finally:
        store.close()
