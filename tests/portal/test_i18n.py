"""The Spanish portal: every string translated, nothing fuzzy, the compiled catalogue
in step with its source, and the pages really in Spanish."""

import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

PORTAL = Path(__file__).resolve().parents[2] / "portal"
PO = PORTAL / "locale" / "es" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _entries(text):
    """(flags, msgid, msgstrs) per entry of a .po file."""
    for block in text.strip().split("\n\n"):
        flags = " ".join(line for line in block.splitlines() if line.startswith("#,"))
        fields, key = {}, None
        for line in block.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"'):
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            strs = [v for k, v in fields.items() if k.startswith("msgstr")]
            yield flags, fields["msgid"], strs


def _problems(po_text):
    problems = []
    for flags, msgid, strs in _entries(po_text):
        if "fuzzy" in flags:
            problems.append(f"fuzzy: {msgid}")
        if not strs or any(not s for s in strs):
            problems.append(f"untranslated: {msgid}")
    return problems


def test_spanish_catalogue_has_no_untranslated_or_fuzzy_entry():
    text = PO.read_text(encoding="utf-8")
    assert list(_entries(text)), "the catalogue is empty"
    assert _problems(text) == []


def test_every_portal_string_is_in_the_catalogue(tmp_path):
    """Extract the portal's strings afresh (as `makemessages` does) and merge them into
    a copy of the catalogue: a string added to a template or view without a
    translation shows up here as untranslated."""
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("gettext is missing: bin/install_system_deps installs it")
        pytest.skip("gettext (xgettext, msgmerge) is not installed")
    copy = tmp_path / "portal"
    shutil.copytree(PORTAL, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    cwd = os.getcwd()
    os.chdir(copy)
    try:
        call_command("makemessages", locale=["es"], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(cwd)
    merged = (copy / "locale" / "es" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert _problems(merged) == []


def test_compiled_catalogue_matches_its_source():
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for _flags, msgid, strs in _entries(PO.read_text(encoding="utf-8")):
        msgid = msgid.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        expected = strs[0].encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
        if len(strs) == 1:
            assert compiled.gettext(msgid) == expected, msgid
        else:
            assert compiled.ngettext(msgid, msgid, 1) == expected, msgid


def test_the_portal_speaks_spanish(client, portal_scene):
    client.cookies["django_language"] = "es"
    client.get(f"/p/{portal_scene.token}/")
    page = client.get("/p/verify/").content.decode()
    assert "Confirme que es usted" in page
    assert 'lang="es"' in page
    assert "English" in page  # the way back
