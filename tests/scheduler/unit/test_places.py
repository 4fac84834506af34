"""Places as planners write them, resolved to slugs or refused with what is wrong (pure)."""

import pytest

from botram_contracts.reference import Regency
from botram_contracts.vocabulary import Level
from botram_runtime.errors import Invalid
from botram_scheduler.domain.places import find_desa, find_kecamatan, place_filter, session_place


def test_names_match_by_slug_and_without_their_spaces(regions: Regency) -> None:
    assert find_kecamatan(regions, "Muaragembong").slug == "muara-gembong"
    assert find_kecamatan(regions, "cikarang-selatan").name == "Cikarang Selatan"
    kec, desa = find_desa(regions, "Cikarang Selatan", "Ciantra")
    assert (kec.slug, desa.slug) == ("cikarang-selatan", "ciantra")


def test_a_kecamatan_session_names_no_desa_and_a_desa_session_names_one(regions: Regency) -> None:
    assert session_place(regions, Level.KECAMATAN, "Sukatani", None) == ("sukatani", None)
    assert session_place(regions, Level.DESA, "Cikarang Selatan", "Ciantra") == (
        "cikarang-selatan",
        "ciantra",
    )

    with pytest.raises(Invalid) as no_desa:
        session_place(regions, Level.DESA, "Cikarang Selatan", None)
    with pytest.raises(Invalid) as desa_given:
        session_place(regions, Level.KECAMATAN, "Cikarang Selatan", "Ciantra")
    assert no_desa.value.code == "desa-required"
    assert desa_given.value.code == "desa-not-allowed"


def test_an_unknown_place_is_refused_with_the_closest_names_or_where_it_really_is(
    regions: Regency,
) -> None:
    with pytest.raises(Invalid) as kecamatan:
        session_place(regions, Level.KECAMATAN, "Muara Gembung", None)
    with pytest.raises(Invalid) as desa:
        session_place(regions, Level.DESA, "Sukatani", "Ciantra")

    assert (kecamatan.value.code, kecamatan.value.status) == ("unknown-region", 422)
    assert "Muara Gembong" in kecamatan.value.detail
    assert desa.value.code == "unknown-region" and "Cikarang Selatan" in desa.value.detail


def test_a_filter_by_desa_needs_its_kecamatan(regions: Regency) -> None:
    assert place_filter(regions, None, None) == (None, None)
    assert place_filter(regions, "Setu", None) == ("setu", None)
    assert place_filter(regions, "Cikarang Selatan", "Ciantra") == ("cikarang-selatan", "ciantra")

    with pytest.raises(Invalid) as alone:
        place_filter(regions, None, "Ciantra")
    with pytest.raises(Invalid) as elsewhere:
        place_filter(regions, "Setu", "Ciantra")
    with pytest.raises(Invalid) as unknown:
        place_filter(regions, "Setuu", None)
    assert alone.value.code == "kecamatan-required"
    assert elsewhere.value.code == unknown.value.code == "unknown-region"
