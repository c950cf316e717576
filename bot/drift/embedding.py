"""Sentence embeddings for drift scoring: WordLlama's static token embeddings (256-d), which
its wheel ships with the tokenizer, so loading never touches the network.

``WordLlama.load()`` looks for the tokenizer in a cache folder the wheel doesn't use and would
then download it; pointing ``cache_dir`` at the installed package and disabling downloads
makes it read the copies inside the wheel, or fail with a clear error.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

MAX_EMBEDDED_CHARS = 4000  # a message's meaning is in its first pages; keeps cost flat
DIMENSIONS = 256


class EmbeddingUnavailable(RuntimeError):
    """The embedding model isn't installed as Rapport needs it."""


class Embedder:
    """Turns text into unit-length 256-d vectors: the mean of its token embeddings, as
    WordLlama's ``embed(norm=True)`` computes it (a test checks they agree), one text at a
    time without the padding and thread pool its batch path costs a single message."""

    def __init__(self, model) -> None:  # a wordllama WordLlamaInference
        self._tokenizer = model.tokenizer
        self._vectors = model.embedding  # (vocabulary, 256) float32, one row per token id

    def embed_one(self, text: str) -> np.ndarray:
        """One text's ``(256,)`` float32 vector of length 1 (zeros if it has no tokens)."""
        ids = self._tokenizer.encode(text[:MAX_EMBEDDED_CHARS] or " ", add_special_tokens=False).ids
        if not ids:
            return np.zeros(DIMENSIONS, dtype=np.float32)
        mean = self._vectors[ids].sum(axis=0, dtype=np.float32) / len(ids)
        length = math.sqrt(float(mean @ mean))
        return mean / length if length else mean

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), 256)`` float32, one ``embed_one`` row per text."""
        rows = [self.embed_one(text) for text in texts]
        return np.stack(rows) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)


@functools.cache
def embedder() -> Embedder:
    """The process's embedder, loaded once (about 0.2 s) from the installed wordllama wheel."""
    try:
        import wordllama
        from wordllama import WordLlama
    except ImportError as error:
        raise EmbeddingUnavailable(
            "wordllama isn't installed: reinstall Rapport (pip install .)"
        ) from error
    folder = Path(wordllama.__file__).parent
    try:
        model = WordLlama.load(cache_dir=folder, disable_download=True, dim=DIMENSIONS)
    except Exception as error:  # wordllama raises bare Exceptions for missing files
        raise EmbeddingUnavailable(
            f"wordllama's embeddings couldn't be loaded from {folder} ({error}): "
            "reinstall Rapport (pip install --force-reinstall wordllama)"
        ) from error
    return Embedder(model)
