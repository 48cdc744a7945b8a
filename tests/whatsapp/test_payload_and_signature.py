"""Reading Meta's notifications and checking their signatures."""

from __future__ import annotations

from ai_gateway.whatsapp import parse_notification, sign, signature_is_valid
from tests.fakes.whatsapp_payloads import notification, status_notification


def test_text_message_is_read_with_its_contact() -> None:
    [message] = parse_notification(notification(phone_number_id="42", wamid="wamid.X"))
    assert (message.phone_number_id, message.wamid, message.contact_wa_id) == (
        "42",
        "wamid.X",
        "5511987654321",
    )
    assert message.message_type == "text" and message.text == "Oi, tudo bem?"
    assert message.contact_name == "Maria"


def test_statuses_media_and_garbage() -> None:
    assert parse_notification(status_notification(phone_number_id="42", wamid="w")) == []
    [image] = parse_notification(
        notification(phone_number_id="42", wamid="w2", message_type="image")
    )
    assert image.message_type == "image" and image.text is None
    [blank] = parse_notification(notification(phone_number_id="42", wamid="w3", text="  "))
    assert blank.message_type == "empty"
    for junk in (None, [], {"entry": "x"}, {"entry": [{"changes": [{"value": {}}]}]}):
        assert parse_notification(junk) == []


def test_signature_is_checked_over_the_raw_body() -> None:
    body = b'{"a": 1}'
    good = sign(body, "secret")
    assert signature_is_valid(body, good, "secret")
    assert not signature_is_valid(body + b" ", good, "secret")
    assert not signature_is_valid(body, good, "other")
    assert not signature_is_valid(body, good.removeprefix("sha256="), "secret")
    assert not signature_is_valid(body, None, "secret")


def test_voice_notes_and_images_carry_their_media() -> None:
    [voice] = parse_notification(
        notification(phone_number_id="42", wamid="w4", message_type="audio", media_id="M1")
    )
    assert (voice.message_type, voice.media_id, voice.text) == ("audio", "M1", None)
    assert voice.mime_type == "audio/ogg; codecs=opus"
    [image] = parse_notification(
        notification(
            phone_number_id="42", wamid="w5", message_type="image", media_id="M2", caption="Oi?"
        )
    )
    assert (image.media_id, image.text, image.mime_type) == ("M2", "Oi?", "image/jpeg")
