"""Kecamatan and desa/kelurahan of a regency, from the `areaid` package's public data."""

import difflib
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from areaid import buka_data, buka_nama  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict

from botram_contracts.slugs import slugify

DEFAULT_PROVINCE = "Jawa Barat"
DEFAULT_REGENCY = "Kabupaten Bekasi"
_MAX_SUGGESTIONS = 3
_SUGGESTION_CUTOFF = 0.6
_MIN_CONTAINED = 4


class UnknownRegionError(ValueError):
    """A province, regency, kecamatan or desa name matched nothing."""

    def __init__(self, message: str, query: str, suggestions: Sequence[str] = ()) -> None:
        self.query = query
        self.suggestions = list(suggestions)
        if self.suggestions:
            message = f"{message}; did you mean: {', '.join(self.suggestions)}?"
        super().__init__(message)


def _keys(text: str) -> tuple[str, str]:
    """Return the slug and the hyphenless slug: "Muaragembong" must meet "Muara Gembong"."""
    slug = slugify(text)
    return slug, slug.replace("-", "")


def _similarity(query: str, candidate: str) -> float:
    """Score how close two names are, on both slug forms."""
    (_, query_bare), (_, candidate_bare) = _keys(query), _keys(candidate)
    # "Bekasi" should still point at "Kabupaten Bekasi", which plain ratios rank too low.
    if len(query_bare) >= _MIN_CONTAINED and query_bare in candidate_bare:
        return 1.0 - 0.01 * (len(candidate_bare) - len(query_bare)) / len(candidate_bare)
    return max(
        difflib.SequenceMatcher(None, q, c).ratio()
        for q, c in zip(_keys(query), _keys(candidate), strict=True)
    )


def closest_names(
    query: str, candidates: Iterable[str], limit: int = _MAX_SUGGESTIONS
) -> list[str]:
    """Return up to `limit` candidates close to `query`, best first (ties keep input order)."""
    scored = [(_similarity(query, name), index, name) for index, name in enumerate(candidates)]
    close = [entry for entry in scored if entry[0] >= _SUGGESTION_CUTOFF]
    close.sort(key=lambda entry: (-entry[0], entry[1]))
    return [name for _, _, name in close[:limit]]


class Desa(BaseModel):
    """A desa or kelurahan (village level)."""

    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    postal_code: str
    kecamatan_slug: str


class Kecamatan(BaseModel):
    """A kecamatan (district) and its desas, in areaid (alphabetical) order."""

    model_config = ConfigDict(frozen=True)

    slug: str
    name: str
    desas: tuple[Desa, ...]

    def find_desa(self, name_or_slug: str) -> Desa | None:
        """Return the desa matching a name or slug, case-insensitively, or None."""
        slug = slugify(name_or_slug)
        return next((desa for desa in self.desas if desa.slug == slug), None)


class Regency(BaseModel):
    """A kabupaten/kota with its kecamatans."""

    model_config = ConfigDict(frozen=True)

    name: str
    province: str
    kecamatans: tuple[Kecamatan, ...]

    def _find_kecamatan(self, name_or_slug: str) -> Kecamatan | None:
        """Return the kecamatan matching a name or slug, or None."""
        slug = slugify(name_or_slug)
        return next((kec for kec in self.kecamatans if kec.slug == slug), None)

    def kecamatan(self, name_or_slug: str) -> Kecamatan:
        """Return a kecamatan by name or slug; raise UnknownRegionError with suggestions."""
        found = self._find_kecamatan(name_or_slug)
        if found is None:
            raise UnknownRegionError(
                f"no kecamatan {name_or_slug!r} in {self.name}",
                name_or_slug,
                self.suggest(name_or_slug),
            )
        return found

    def desa(self, kecamatan: str, name_or_slug: str) -> Desa:
        """Return a desa of a kecamatan; raise UnknownRegionError naming where it really is."""
        kec = self.kecamatan(kecamatan)
        found = kec.find_desa(name_or_slug)
        if found is not None:
            return found
        elsewhere = [
            (other, match)
            for other in self.kecamatans
            if (match := other.find_desa(name_or_slug)) is not None
        ]
        if elsewhere:
            homes = " and ".join(f"Kecamatan {other.name}" for other, _ in elsewhere)
            raise UnknownRegionError(
                f"desa {name_or_slug!r} is not in Kecamatan {kec.name}; it is in {homes}",
                name_or_slug,
                [f"{match.name} (Kecamatan {other.name})" for other, match in elsewhere],
            )
        raise UnknownRegionError(
            f"no desa {name_or_slug!r} in Kecamatan {kec.name}",
            name_or_slug,
            self.suggest(name_or_slug, kecamatan=kec.slug),
        )

    def all_desas(self) -> list[Desa]:
        """Return every desa of the regency, kecamatan by kecamatan."""
        return [desa for kec in self.kecamatans for desa in kec.desas]

    def suggest(self, name: str, kecamatan: str | None = None) -> list[str]:
        """Return the kecamatan names closest to `name` (desa names when `kecamatan` is given)."""
        if kecamatan is None:
            return closest_names(name, (kec.name for kec in self.kecamatans))
        return closest_names(name, (desa.name for desa in self.kecamatan(kecamatan).desas))


def _unique_slugs(names: Sequence[str]) -> list[str]:
    """Slug each name; repeats get -2, -3... in input order so slugs stay stable."""
    seen: dict[str, int] = {}
    slugs = []
    for name in names:
        slug = slugify(name)
        seen[slug] = seen.get(slug, 0) + 1
        slugs.append(slug if seen[slug] == 1 else f"{slug}-{seen[slug]}")
    return slugs


def _build_kecamatan(raw: Mapping[str, Any]) -> Kecamatan:
    """Build a kecamatan from an areaid `{kec, kelurahan: [{kelu, pos}]}` record."""
    slug = slugify(raw["kec"])
    villages = raw["kelurahan"]
    desas = tuple(
        Desa(
            slug=desa_slug,
            name=village["kelu"],
            postal_code=str(village["pos"]).zfill(5),
            kecamatan_slug=slug,
        )
        for desa_slug, village in zip(
            _unique_slugs([v["kelu"] for v in villages]), villages, strict=True
        )
    )
    return Kecamatan(slug=slug, name=raw["kec"], desas=desas)


def build_regency(raw: Mapping[str, Any], province: str) -> Regency:
    """Build a Regency from one areaid `kabupaten` record (`kab_kota`, `kecamatan`)."""
    kecamatans = tuple(_build_kecamatan(kec) for kec in raw["kecamatan"])
    clashes = {k.slug for k in kecamatans if sum(o.slug == k.slug for o in kecamatans) > 1}
    if clashes:
        # Kecamatan slugs are subject tokens; a clash would silently merge two districts.
        raise ValueError(f"{raw['kab_kota']}: kecamatan slugs clash: {sorted(clashes)}")
    return Regency(name=raw["kab_kota"], province=province, kecamatans=kecamatans)


def _resolve(query: str, names: Sequence[str], what: str, where: str) -> str:
    """Return the name in `names` whose slug equals the query's, else raise with suggestions."""
    slug = slugify(query)
    match = next((name for name in names if slugify(name) == slug), None)
    if match is None:
        raise UnknownRegionError(
            f"no {what} {query!r} in {where}", query, closest_names(query, names)
        )
    return match


@functools.cache
def _province_names() -> tuple[str, ...]:
    """Return areaid's province display names."""
    return tuple(buka_nama()["himpunan"])


@functools.cache
def _regency_records(province: str) -> tuple[Mapping[str, Any], ...]:
    """Read a province's regency records; areaid names the file after the lowercase name."""
    return tuple(buka_data(province.lower())[0]["kabupaten"])


@functools.cache
def _build_cached(province: str, regency: str) -> Regency:
    """Build a regency once per canonical (province, regency) pair."""
    record = next(r for r in _regency_records(province) if r["kab_kota"] == regency)
    return build_regency(record, province)


def load_regions(province: str = DEFAULT_PROVINCE, regency: str = DEFAULT_REGENCY) -> Regency:
    """Load a regency's kecamatans and desas (default Kabupaten Bekasi); cached."""
    province_name = _resolve(province, _province_names(), "province", "Indonesia")
    regency_names = [r["kab_kota"] for r in _regency_records(province_name)]
    regency_name = _resolve(regency, regency_names, "regency", province_name)
    return _build_cached(province_name, regency_name)
