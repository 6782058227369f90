"""An encrypted attachment opens with the keys its event gives, and only with them."""

from __future__ import annotations

from typing import Any

import pytest
from nio.crypto.attachments import encrypt_attachment

from bot.media import UndecryptableMedia, decrypt_attachment

AUDIO = b"OggS" + bytes(range(256)) * 8


def _file_info(keys: dict[str, Any]) -> dict[str, Any]:
    """The event's `file` object, as a client puts it in an encrypted voice message."""
    return {"url": "mxc://example.org/x", "v": "v2", **keys}


def test_an_encrypted_attachment_is_decrypted_with_the_keys_of_its_event() -> None:
    ciphertext, keys = encrypt_attachment(AUDIO)
    assert decrypt_attachment(ciphertext, _file_info(keys)) == AUDIO


def test_bytes_that_do_not_match_their_hash_are_refused() -> None:
    ciphertext, keys = encrypt_attachment(AUDIO)
    with pytest.raises(UndecryptableMedia):
        # Flip the last byte: writing a fixed 0x00 left the file unchanged when it already ended in one.
        decrypt_attachment(ciphertext[:-1] + bytes([ciphertext[-1] ^ 0xFF]), _file_info(keys))


def test_a_file_object_without_its_keys_is_refused() -> None:
    ciphertext, keys = encrypt_attachment(AUDIO)
    with pytest.raises(UndecryptableMedia):
        decrypt_attachment(ciphertext, {"url": "mxc://example.org/x", "iv": keys["iv"]})
