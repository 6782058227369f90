"""Choosing among the beam's finalists with the office's words (n-best rescoring).

Whisper's beam ends with several finalists; its own first choice is the most likely token
sequence, which for the base model often spells a sound-alike that is not a word. Each finalist
is cleaned up as a transcript would be (Simplified script, glossary and lexicon passes, with
this message's names), then scored as Whisper's summed log-probability plus ``weight`` times the
lexicon's log-probability of the cleaned text: a finalist that reads as real words, office terms
and roster names wins over one that reads as noise, by a margin the weight sets.
"""

from __future__ import annotations

from collections.abc import Sequence

from voice.engine import Chooser
from voice.glossary import Glossary
from voice.postprocess import lexicon_for, postprocess

#: The lexicon's weight against Whisper's log-probability (0: Whisper's own choice). Chosen on
#: an earlier offline run of the dev set, then measured through the production path
#: (bench/voice_nbest.py, 134 dev clips): pooled CER 0.300 -> 0.290 (0.1), 0.287 (0.2), 0.286
#: (0.5), 0.289 (1.0); 0.2 breaks fewer characters than 0.5 (82 against 89) for almost the gain.
DEFAULT_WEIGHT = 0.2


def chooser(glossary: Glossary, weight: float = DEFAULT_WEIGHT) -> Chooser:
    """A ``voice.engine.Chooser`` scoring finalists with ``glossary``'s lexicon."""
    lexicon = lexicon_for(glossary.terms)

    def choose(finalists: Sequence[tuple[str, float]]) -> int:
        scores = [logprob + weight * lexicon.logprob(postprocess(text, glossary)) for text, logprob in finalists]
        return max(range(len(scores)), key=scores.__getitem__) if scores else 0

    return choose
