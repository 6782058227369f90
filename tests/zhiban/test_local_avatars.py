"""The demo people's avatars: a small PNG each, in a colour of its own."""

from __future__ import annotations

import io

from PIL import Image

from zhiban.local.avatars import SIZE, avatar_png
from zhiban.local.stack import DEMO_PEOPLE


def test_each_demo_person_gets_a_small_png_of_their_own_colour() -> None:
    pictures = [avatar_png(n) for n in range(len(DEMO_PEOPLE))]
    assert len(set(pictures)) == len(DEMO_PEOPLE)
    centres = set()
    for data in pictures:
        assert data.startswith(b"\x89PNG") and len(data) < 20_000
        image = Image.open(io.BytesIO(data)).convert("RGBA")
        assert image.size == (SIZE, SIZE)
        assert image.getpixel((0, 0))[3] == 0  # a disc: the corners are transparent
        centres.add(image.getpixel((SIZE // 8, SIZE // 2)))  # the disc's colour, left of the figure
    assert len(centres) == len(DEMO_PEOPLE)
