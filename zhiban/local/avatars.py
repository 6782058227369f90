"""Avatars for the demo office: a coloured disc with a white head-and-shoulders figure, one colour
per person, so that each is told apart at a glance in Element and FluffyChat.

Drawn with Pillow (which the homeserver of the local stack installs for its thumbnails); the
machine has no Chinese font, so the picture carries no characters.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

SIZE = 96
# Distinct, calm colours (RGB), taken in turn by the demo people.
PALETTE = [(0xC6, 0x28, 0x28), (0x15, 0x65, 0xC0), (0x2E, 0x7D, 0x32), (0x6A, 0x1B, 0x9A), (0xEF, 0x6C, 0x00)]


def avatar_png(index: int, size: int = SIZE) -> bytes:
    """The PNG bytes of avatar number `index` (its colour is PALETTE[index % len(PALETTE)])."""
    scale = 4  # drawn large and scaled down, so that the edges are smooth
    big = size * scale
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, big - 1, big - 1), fill=PALETTE[index % len(PALETTE)] + (255,))
    white = (255, 255, 255, 235)
    head = big * 0.18
    cx, cy = big / 2, big * 0.38
    draw.ellipse((cx - head, cy - head, cx + head, cy + head), fill=white)
    # The shoulders: the top of a wide ellipse, cut off by the disc's own edge below.
    mask = Image.new("L", (big, big), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, big - 1, big - 1), fill=255)
    body = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    ImageDraw.Draw(body).ellipse((big * 0.2, big * 0.62, big * 0.8, big * 1.2), fill=white)
    image.alpha_composite(Image.composite(body, Image.new("RGBA", (big, big), (0, 0, 0, 0)), mask))
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()
