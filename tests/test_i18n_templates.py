"""No user-visible English hides outside a translation tag (SPEC §14): every template's
text and its visible attributes (title, aria-label, placeholder, alt) are walked, with
Jinja's own syntax taken out first. What is left that has a letter in it is a word
nobody translated."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from vibechat import paths

TEMPLATES = sorted(paths.TEMPLATES.rglob("*.html"))
COMMENT = re.compile(r"\{#.*?#\}", re.S)
# A block that fills in an attribute (a class name), not text.
CLASS_BLOCK = re.compile(r"\{%-?\s*block main_class\s*%\}.*?\{%-?\s*endblock\s*%\}", re.S)
TRANSLATED = re.compile(r"\{%-?\s*trans\b.*?\{%-?\s*endtrans\s*-?%\}", re.S)
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)
STATEMENT = re.compile(r"\{%.*?%\}", re.S)
VISIBLE_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
# Names that are the same in every language.
UNTRANSLATABLE = {"vibechat"}
LETTER = re.compile(r"[^\W\d_]")


class Words(HTMLParser):
    """The text and visible attribute values of a template with its Jinja taken out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skipping = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skipping += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and LETTER.search(value):
                self.found.append(f"{name}={value!r}")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skipping -= 1

    def handle_data(self, data):
        text = data.strip()
        words = {word for word in text.replace("·", " ").split() if LETTER.search(word)}
        if words - UNTRANSLATABLE and not self.skipping:
            self.found.append(repr(text))


def untranslated(source: str) -> list[str]:
    for pattern, stand_in in (
        (COMMENT, ""),
        (CLASS_BLOCK, ""),
        (TRANSLATED, "·"),
        (EXPRESSION, "·"),
        (STATEMENT, ""),
    ):
        source = pattern.sub(stand_in, source)
    words = Words()
    words.feed(source)
    words.close()
    return words.found


@pytest.mark.parametrize(
    "template", TEMPLATES, ids=lambda path: str(path.relative_to(paths.TEMPLATES))
)
def test_every_word_in_a_template_is_marked_for_translation(template):
    assert untranslated(template.read_text()) == []


def test_the_walk_finds_what_is_not_marked():
    source = """{# a comment #}<p title="Hover text">Hello {{ name }}</p>
    <p>{% trans %}Marked{% endtrans %}</p><img alt="{{ _('Marked') }}" src="x">
    {% if x %}<span aria-label="Unmarked">·</span>{% endif %}<a>vibechat</a>"""
    assert untranslated(source) == ["title='Hover text'", "'Hello ·'", "aria-label='Unmarked'"]
