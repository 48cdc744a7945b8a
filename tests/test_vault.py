"""The vault: sealed at rest, masked everywhere, wrong keys reported as such."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from ai_gateway.errors import VaultError
from ai_gateway.storage.db import Database
from ai_gateway.storage.secrets import get_secret, list_secrets, reseal_all, set_secret
from ai_gateway.vault import MasterKey, generate_master_key, load_or_create_key_file, mask_secret

CLEAR = "sk-proj-THISISTHECLEARKEY0123456789wxyz"


def test_seal_and_open_round_trip(db: Database) -> None:
    master = MasterKey.from_base64(generate_master_key())
    with db.write() as s:
        info = set_secret(s, master=master, secret_id="openai", value=CLEAR + "\n")
    assert info.masked == "sk-...wxyz"
    with db.session() as s:
        assert get_secret(s, master=master, secret_id="openai") == CLEAR
        assert [i.masked for i in list_secrets(s)] == ["sk-...wxyz"]


def test_clear_key_is_not_in_the_database_file(tmp_path: Path) -> None:
    from ai_gateway.storage import migrate

    db = Database(f"sqlite:///{tmp_path / 'v.db'}")
    migrate.upgrade(db)
    master = MasterKey.from_base64(generate_master_key())
    with db.write() as s:
        set_secret(s, master=master, secret_id="groq", value=CLEAR)
    db.dispose()
    for f in tmp_path.iterdir():
        assert CLEAR.encode() not in f.read_bytes()
        assert b"THISISTHECLEARKEY" not in f.read_bytes()


def test_wrong_master_key_is_one_clear_error(db: Database) -> None:
    right = MasterKey.from_base64(generate_master_key())
    wrong = MasterKey.from_base64(generate_master_key())
    with db.write() as s:
        set_secret(s, master=right, secret_id="openai", value=CLEAR)
    with db.session() as s, pytest.raises(VaultError, match="master key does not match"):
        get_secret(s, master=wrong, secret_id="openai")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!!", "not valid base64"),
        (base64.b64encode(bytes(range(16))).decode(), "32 bytes"),
    ],
    ids=["not-base64", "16-bytes"],
)
def test_bad_master_keys_are_refused(value: str, message: str) -> None:
    with pytest.raises(VaultError, match=message):
        MasterKey.from_base64(value)


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    first = load_or_create_key_file(tmp_path)
    assert stat.S_IMODE((tmp_path / "master.key").stat().st_mode) == 0o600
    assert load_or_create_key_file(tmp_path).key_id == first.key_id


def test_reseal_moves_every_secret_to_the_new_key(db: Database) -> None:
    old = MasterKey.from_base64(generate_master_key())
    new = MasterKey.from_base64(generate_master_key())
    with db.write() as s:
        set_secret(s, master=old, secret_id="openai", value=CLEAR)
        set_secret(s, master=old, secret_id="google", value="AIzaSyEXAMPLE000000000")
        assert reseal_all(s, old=old, new=new) == 2
    with db.session() as s:
        assert get_secret(s, master=new, secret_id="openai") == CLEAR
        with pytest.raises(VaultError):
            get_secret(s, master=old, secret_id="google")


def test_mask_never_shows_a_short_secret() -> None:
    assert mask_secret("abc") == "****"
    assert "1234567890" not in mask_secret("vck_1234567890abcdefgh")
