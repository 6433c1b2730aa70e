"""The Arabic catalogue is complete, well-formed and compiles.

The source is extracted with Django's ``makemessages`` inside a temporary copy
of the package, so running these tests never touches the committed .po file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.utils import translation

import minbar

PACKAGE_DIR = Path(minbar.__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"
AR_PO = LOCALE_DIR / "ar" / "LC_MESSAGES" / "django.po"
AR_NPLURALS = 6
GETTEXT_HINT = (
    "GNU gettext is needed to check translations: install it "
    "(apt-get install gettext, or brew install gettext)."
)

# printf-style placeholders as Python's % operator reads them: %(name)s, %d, %s ...
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]+)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]"
)
HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
CODE_SPAN = re.compile(r"<code\b[^>]*>(.*?)</code>", re.DOTALL)


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"`{tool}` was not found. {GETTEXT_HINT}", pytrace=False)
    return path


@pytest.fixture(scope="module")
def catalogue() -> polib.POFile:
    assert AR_PO.exists(), f"{AR_PO} is missing: run makemessages -l ar and translate it."
    return polib.pofile(str(AR_PO))


@pytest.fixture(scope="module")
def source_catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[polib.POFile]:
    """Every translatable string in the source, extracted into a throw-away copy."""
    for tool in ("xgettext", "msguniq", "msgmerge", "msgattrib"):
        _require(tool)
    from django.conf import settings

    work = tmp_path_factory.mktemp("makemessages") / "minbar"
    shutil.copytree(
        PACKAGE_DIR,
        work,
        ignore=shutil.ignore_patterns("__pycache__", "*.po", "*.mo", "*.pot", "static"),
    )
    (work / "locale" / "ar" / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
    old_cwd = Path.cwd()
    old_locale_paths = settings.LOCALE_PATHS
    # makemessages writes into settings.LOCALE_PATHS too: point it at the copy.
    settings.LOCALE_PATHS = [str(work / "locale")]
    try:
        os.chdir(work)
        call_command("makemessages", locale=["ar"], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(old_cwd)
        settings.LOCALE_PATHS = old_locale_paths
    extracted = work / "locale" / "ar" / "LC_MESSAGES" / "django.po"
    assert extracted.exists(), "makemessages produced no catalogue"
    yield polib.pofile(str(extracted))


def _key(entry: polib.POEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


def _describe(entry: polib.POEntry) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:2])
    ctx = f" [context {entry.msgctxt!r}]" if entry.msgctxt else ""
    return f"{entry.msgid!r}{ctx} ({where or 'no location'})"


def _live_entries(catalogue: polib.POFile) -> list[polib.POEntry]:
    return [e for e in catalogue if not e.obsolete]


def _translations(entry: polib.POEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural.get(i, "") for i in range(AR_NPLURALS)]
    return [entry.msgstr]


def _placeholders(text: str) -> list[str]:
    return sorted(m.group(0) for m in PLACEHOLDER.finditer(text.replace("%%", "")))


def test_every_source_string_is_translated(catalogue, source_catalogue):
    translated = {
        _key(e): e
        for e in _live_entries(catalogue)
        if all(_translations(e)) and "fuzzy" not in e.flags
    }
    missing = [
        _describe(e)
        for e in _live_entries(source_catalogue)
        if e.msgid and _key(e) not in translated
    ]
    assert not missing, (
        f"{len(missing)} string(s) in the source have no Arabic translation in {AR_PO}. "
        "Run `makemessages -l ar --no-obsolete` in src/minbar and translate:\n  "
        + "\n  ".join(missing)
    )


def test_plural_entries_match_the_source(catalogue, source_catalogue):
    committed = {_key(e): e for e in _live_entries(catalogue)}
    wrong = [
        _describe(e)
        for e in _live_entries(source_catalogue)
        if _key(e) in committed and committed[_key(e)].msgid_plural != e.msgid_plural
    ]
    assert not wrong, "Plural form changed in the source; update:\n  " + "\n  ".join(wrong)


def test_header_is_arabic(catalogue):
    assert catalogue.metadata.get("Language") == "ar"
    assert "charset=UTF-8" in catalogue.metadata.get("Content-Type", "")
    plural_forms = catalogue.metadata.get("Plural-Forms", "").replace(" ", "")
    assert plural_forms.startswith(f"nplurals={AR_NPLURALS};"), plural_forms
    assert not catalogue.metadata_is_fuzzy, "remove the fuzzy flag from the header"


def test_no_fuzzy_or_empty_entries(catalogue):
    fuzzy = [_describe(e) for e in _live_entries(catalogue) if "fuzzy" in e.flags]
    empty = [
        _describe(e)
        for e in _live_entries(catalogue)
        if e.msgid and not all(t.strip() for t in _translations(e))
    ]
    obsolete = [_describe(e) for e in catalogue if e.obsolete]
    assert not fuzzy, "Fuzzy entries (review, then remove the flag):\n  " + "\n  ".join(fuzzy)
    assert not empty, "Untranslated entries (fill every plural form):\n  " + "\n  ".join(empty)
    assert not obsolete, "Obsolete entries (re-run makemessages --no-obsolete):\n  " + "\n  ".join(
        obsolete
    )


def test_placeholders_are_kept(catalogue):
    problems = []
    for entry in _live_entries(catalogue):
        if "no-python-format" in entry.flags:
            continue
        expected = _placeholders(entry.msgid_plural or entry.msgid)
        if entry.msgid_plural:
            # Arabic may spell out one and two ("دقيقة واحدة", "دقيقتان"), so a
            # form may drop the number, but never add or change a placeholder,
            # and the general form (3+, 11+, 100+) must keep all of them.
            for index, text in enumerate(_translations(entry)):
                found = _placeholders(text)
                if not set(found) <= set(expected):
                    problems.append(f"{_describe(entry)} form {index}: {found} not in {expected}")
            if _placeholders(_translations(entry)[-1]) != expected:
                problems.append(f"{_describe(entry)}: last plural form lacks {expected}")
        else:
            found = _placeholders(entry.msgstr)
            if found != expected:
                problems.append(f"{_describe(entry)}: expected {expected}, found {found}")
    assert not problems, "Placeholders differ between msgid and msgstr:\n  " + "\n  ".join(problems)


def test_html_and_code_are_kept(catalogue):
    problems = []
    for entry in _live_entries(catalogue):
        source = entry.msgid_plural or entry.msgid
        tags = sorted(HTML_TAG.findall(source))
        code = CODE_SPAN.findall(source)
        for text in _translations(entry):
            if sorted(HTML_TAG.findall(text)) != tags:
                problems.append(f"{_describe(entry)}: HTML tags differ")
            if CODE_SPAN.findall(text) != code:
                problems.append(f"{_describe(entry)}: <code> content changed")
    assert not problems, "\n".join(problems)


def test_msgfmt_check_passes():
    msgfmt = _require("msgfmt")
    result = subprocess.run(
        [msgfmt, "--check", "--output-file=/dev/null", str(AR_PO)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"msgfmt --check {AR_PO} failed:\n{result.stderr}"


def test_compiled_catalogue_is_used_at_runtime(catalogue):
    by_id = {e.msgid: e.msgstr for e in _live_entries(catalogue) if not e.msgid_plural}
    with translation.override("ar"):
        assert translation.gettext("Dashboard") == by_id["Dashboard"]
        assert translation.gettext("Minbar") == by_id["Minbar"] == "منبر"
        assert translation.get_language_bidi()
    with translation.override("en"):
        assert translation.gettext("Dashboard") == "Dashboard"


@pytest.mark.parametrize(
    ("n", "form"), [(0, 0), (1, 1), (2, 2), (3, 3), (10, 3), (11, 4), (99, 4), (100, 5), (102, 5)]
)
def test_arabic_plural_forms_are_chosen(catalogue, n, form):
    entry = next(
        (
            e
            for e in _live_entries(catalogue)
            if e.msgid_plural and len(set(_translations(e))) == AR_NPLURALS
        ),
        None,
    )
    assert entry is not None, "no plural entry with six distinct forms to check"
    with translation.override("ar"):
        text = translation.ngettext(entry.msgid, entry.msgid_plural, n)
    assert text == entry.msgstr_plural[form]
