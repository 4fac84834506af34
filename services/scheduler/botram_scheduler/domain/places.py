"""Places as planners write them: kecamatan and desa names resolved to the regency's slugs."""

from botram_contracts.reference import Desa, Kecamatan, Regency, UnknownRegionError
from botram_contracts.slugs import slugify
from botram_contracts.vocabulary import Level
from botram_runtime.errors import Invalid


def _bare(text: str) -> str:
    return slugify(text).replace("-", "")


def find_kecamatan(regions: Regency, name: str) -> Kecamatan:
    """A kecamatan by name or slug; spellings without spaces ("Muaragembong") also match."""
    try:
        return regions.kecamatan(name)
    except UnknownRegionError:
        same = [kec for kec in regions.kecamatans if _bare(kec.name) == _bare(name)]
        if len(same) == 1:
            return same[0]
        raise


def find_desa(regions: Regency, kecamatan: str, name: str) -> tuple[Kecamatan, Desa]:
    """A desa of a kecamatan; spellings without spaces also match; else where it really is."""
    kec = find_kecamatan(regions, kecamatan)
    same = [desa for desa in kec.desas if _bare(desa.name) == _bare(name)]
    if kec.find_desa(name) is None and len(same) == 1:
        return kec, same[0]
    return kec, regions.desa(kec.slug, name)


def unknown_region(error: UnknownRegionError) -> Invalid:
    """A name the regency does not know (422), with the closest names in the detail."""
    return Invalid(str(error), code="unknown-region")


def session_place(
    regions: Regency, level: Level, kecamatan: str, desa: str | None
) -> tuple[str, str | None]:
    """The slugs of a new session's place: a desa session names a desa of its kecamatan, a
    kecamatan session names none."""
    try:
        kec = find_kecamatan(regions, kecamatan)
        if level is Level.DESA:
            if not desa:
                raise Invalid("a desa session needs a desa", code="desa-required")
            return kec.slug, find_desa(regions, kec.slug, desa)[1].slug
    except UnknownRegionError as error:
        raise unknown_region(error) from error
    if desa:
        raise Invalid("a kecamatan session has no desa", code="desa-not-allowed")
    return kec.slug, None


def place_filter(
    regions: Regency, kecamatan: str | None, desa: str | None
) -> tuple[str | None, str | None]:
    """Filter names resolved to slugs (a desa needs its kecamatan: names repeat across them)."""
    if desa is not None and kecamatan is None:
        raise Invalid("filtering by desa needs its kecamatan too", code="kecamatan-required")
    if kecamatan is None:
        return None, None
    try:
        if desa is None:
            return find_kecamatan(regions, kecamatan).slug, None
        kec, found = find_desa(regions, kecamatan, desa)
    except UnknownRegionError as error:
        raise unknown_region(error) from error
    return kec.slug, found.slug
