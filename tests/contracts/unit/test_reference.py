"""Reference data: the service catalogue and Kabupaten Bekasi's kecamatans and desas."""

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from botram_contracts.reference import (
    DEFAULT_CATALOGUE_PATH,
    Catalogue,
    CatalogueError,
    UnknownRegionError,
    build_regency,
    load_catalogue,
    load_regions,
)
from botram_contracts.slugs import slugify

# --- catalogue ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    """Write the shipped catalogue with one textual change, for refusal tests."""
    text = DEFAULT_CATALOGUE_PATH.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} no longer in services.toml"
    path = tmp_path / "services.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_catalogue_offers_forty_plus_services_with_unique_codes_and_prefixes(catalogue):
    assert len(catalogue) >= 40
    assert len(set(catalogue.codes())) == len(catalogue)
    assert len({service.ticket_prefix for service in catalogue}) == len(catalogue)


def test_every_code_is_an_agency_prefixed_slug(catalogue):
    for service in catalogue:
        assert slugify(service.code) == service.code
        assert service.code.startswith(f"{service.agency}-")


def test_every_ticket_prefix_is_two_to_four_capitals(catalogue):
    assert all(re.fullmatch(r"[A-Z]{2,4}", service.ticket_prefix) for service in catalogue)


def test_civil_registration_is_split_into_its_documents(catalogue):
    names = " | ".join(service.name for service in catalogue.for_agency("dukcapil")).lower()
    for document in ("ktp elektronik", "kartu keluarga", "akta kelahiran", "akta kematian"):
        assert document in names
    for document in ("kartu identitas anak", "pindah datang"):
        assert document in names
    codes = catalogue.codes()
    assert {"dukcapil-ktp-perekaman", "dukcapil-ktp-cetak", "dukcapil-kk"} <= set(codes)
    assert {"dukcapil-akta-kelahiran", "dukcapil-akta-kematian", "dukcapil-kia"} <= set(codes)
    assert "dukcapil-pindah-datang" in codes


def test_every_agency_named_by_the_seed_is_present(catalogue):
    seed_agencies = {
        "dukcapil",
        "disnaker",
        "dinkes",
        "bpjs-kesehatan",
        "bpjs-ketenagakerjaan",
        "baznas",
        "pmi",
        "bapenda",
        "dpmptsp",
        "dppkb",
        "diskopukm",
        "bank-bjb",
        "disdik",
        "distan",
    }
    assert seed_agencies <= set(catalogue.agencies)
    assert all(catalogue.for_agency(slug) for slug in seed_agencies)
    assert catalogue.agencies["dukcapil"].name == "Dinas Kependudukan dan Pencatatan Sipil"


def test_every_service_belongs_to_a_known_agency(catalogue):
    assert all(service.agency in catalogue.agencies for service in catalogue)


def test_kartu_kuning_and_rabies_vaccination_are_offered(catalogue):
    assert catalogue.get("disnaker-kartu-kuning").ticket_prefix == "AKI"
    assert "rabies" in catalogue.get("distan-vaksin-rabies").name.lower()


def test_a_dozen_plus_most_demanded_services_go_to_the_desa(catalogue):
    desa = catalogue.desa_eligible()
    others = [service for service in catalogue if not service.desa_eligible]
    assert 18 <= len(desa) <= 25
    # The seed: villages get the most demanded services of the kecamatan sessions.
    assert min(s.demand_weight for s in desa) >= max(s.demand_weight for s in others)


def test_civil_registration_is_the_most_demanded(catalogue):
    top = max(catalogue, key=lambda service: service.demand_weight)
    assert top.agency == "dukcapil"


def test_demand_and_duration_are_positive(catalogue):
    assert all(s.demand_weight > 0 and s.mean_service_minutes > 0 for s in catalogue)


def test_lookup_by_code_and_membership(catalogue):
    assert "dukcapil-kk" in catalogue
    assert "no-such-service" not in catalogue
    assert catalogue.get("dukcapil-kk").ticket_prefix == "KK"
    with pytest.raises(KeyError, match="no-such-service"):
        catalogue.get("no-such-service")


def test_default_catalogue_is_loaded_once():
    assert load_catalogue() is load_catalogue()


def test_an_explicit_path_loads_the_same_data(catalogue):
    assert load_catalogue(DEFAULT_CATALOGUE_PATH).codes() == catalogue.codes()


def test_duplicate_ticket_prefix_is_refused_naming_both_services(tmp_path):
    path = _broken_copy(tmp_path, 'ticket_prefix = "CTK"', 'ticket_prefix = "KTP"')
    with pytest.raises(CatalogueError, match="duplicate ticket prefix 'KTP'") as excinfo:
        load_catalogue(path)
    assert "dukcapil-ktp-perekaman" in str(excinfo.value)
    assert "dukcapil-ktp-cetak" in str(excinfo.value)


def test_duplicate_code_is_refused(tmp_path):
    path = _broken_copy(tmp_path, 'code = "dukcapil-ktp-cetak"', 'code = "dukcapil-kk"')
    with pytest.raises(CatalogueError, match="duplicate service code 'dukcapil-kk'"):
        load_catalogue(path)


def test_unknown_agency_is_refused_naming_the_service(tmp_path):
    text = 'code = "pmi-donor-darah"\nagency = "pmi"'
    path = _broken_copy(tmp_path, text, 'code = "pmii-donor-darah"\nagency = "pmii"')
    with pytest.raises(CatalogueError, match="'pmii-donor-darah' names unknown agency 'pmii'"):
        load_catalogue(path)


def test_code_without_its_agency_prefix_is_refused(tmp_path):
    path = _broken_copy(tmp_path, 'code = "pmi-donor-darah"', 'code = "donor-darah"')
    with pytest.raises(CatalogueError, match="'donor-darah' must start with its agency slug"):
        load_catalogue(path)


def test_agency_missing_from_the_agencies_table_is_refused(tmp_path):
    path = _broken_copy(tmp_path, 'pmi = "Palang Merah Indonesia {regency}"\n', "")
    with pytest.raises(CatalogueError, match="'pmi-donor-darah' names unknown agency 'pmi'"):
        load_catalogue(path)


def test_agencies_are_named_for_the_configured_regency():
    assert load_catalogue().agencies["pmi"].name == "Palang Merah Indonesia Kabupaten Bekasi"
    karawang = load_catalogue(regency="Kabupaten Karawang")
    assert karawang.agencies["samsat"].name == "Samsat Kabupaten Karawang"
    assert not any("Bekasi" in agency.name for agency in karawang.agencies.values())


def test_bad_slug_is_refused_naming_the_entry(tmp_path):
    path = _broken_copy(tmp_path, 'code = "dukcapil-kk"', 'code = "Dukcapil KK"')
    with pytest.raises(CatalogueError, match=r"services\[2\] \(code='Dukcapil KK'\)"):
        load_catalogue(path)


def test_bad_ticket_prefix_is_refused(tmp_path):
    path = _broken_copy(tmp_path, 'ticket_prefix = "AKI"', 'ticket_prefix = "AK1"')
    with pytest.raises(CatalogueError, match="disnaker-kartu-kuning"):
        load_catalogue(path)


def test_too_few_services_is_refused(catalogue):
    with pytest.raises(ValidationError, match="at least 40"):
        Catalogue(services=catalogue.services[:39], agencies=catalogue.agencies)


def test_catalogue_errors_are_value_errors(tmp_path):
    path = tmp_path / "missing.toml"
    with pytest.raises(ValueError, match=r"missing\.toml"):
        load_catalogue(path)


# --- regions -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bekasi():
    return load_regions()


def test_kabupaten_bekasi_has_23_kecamatan_and_187_desa(bekasi):
    assert bekasi.name == "Kabupaten Bekasi"
    assert bekasi.province == "Jawa Barat"
    assert len(bekasi.kecamatans) == 23
    assert len(bekasi.all_desas()) == 187


def test_seed_places_exist(bekasi):
    assert bekasi.desa("Cikarang Selatan", "Ciantra").kecamatan_slug == "cikarang-selatan"
    assert bekasi.desa("sukatani", "sukarukun").name == "Sukarukun"
    for name in ("Tarumajaya", "Muara Gembong", "Setu", "Sukatani"):
        assert bekasi.kecamatan(name).name == name


def test_kecamatan_lookup_accepts_names_and_slugs_in_any_case(bekasi):
    expected = bekasi.kecamatan("Muara Gembong")
    assert bekasi.kecamatan("muara-gembong") is expected
    assert bekasi.kecamatan("MUARA GEMBONG") is expected


def test_desas_carry_postal_codes(bekasi):
    assert bekasi.desa("Cikarang Selatan", "Ciantra").postal_code == "17530"
    assert all(re.fullmatch(r"\d{5}", desa.postal_code) for desa in bekasi.all_desas())


def test_areaid_alphabetical_order_is_kept(bekasi):
    names = [kec.name for kec in bekasi.kecamatans]
    assert names[0] == "Babelan"
    assert names[-1] == "Tarumajaya"
    assert bekasi.kecamatan("Cikarang Selatan").desas[0].name == "Ciantra"


def test_muaragembong_suggests_muara_gembong(bekasi):
    assert bekasi.suggest("Muaragembong")[0] == "Muara Gembong"
    with pytest.raises(UnknownRegionError, match="Muara Gembong") as excinfo:
        bekasi.kecamatan("Muaragembong")
    assert excinfo.value.suggestions[0] == "Muara Gembong"


def test_unknown_desa_suggests_close_names_in_its_kecamatan(bekasi):
    with pytest.raises(UnknownRegionError, match="Cibening"):
        bekasi.desa("Setu", "Cibenin")


def test_desa_in_the_wrong_kecamatan_names_the_right_one(bekasi):
    with pytest.raises(UnknownRegionError, match="it is in Kecamatan Cikarang Selatan"):
        bekasi.desa("Setu", "Ciantra")


def test_region_errors_are_value_errors(bekasi):
    with pytest.raises(ValueError):
        bekasi.kecamatan("Atlantis")


def test_unknown_province_or_regency_is_refused_with_suggestions():
    with pytest.raises(UnknownRegionError, match="Jawa Barat"):
        load_regions(province="Jawa Brat")
    with pytest.raises(UnknownRegionError, match="Kabupaten Bekasi"):
        load_regions(regency="Bekasi")


def test_regions_are_cached_across_spellings(bekasi):
    assert load_regions("jawa barat", "kabupaten-bekasi") is bekasi


def test_desa_slugs_are_unique_within_each_kecamatan(bekasi):
    for kec in bekasi.kecamatans:
        slugs = [desa.slug for desa in kec.desas]
        assert len(set(slugs)) == len(slugs), kec.name
        assert all(desa.kecamatan_slug == kec.slug for desa in kec.desas)


def test_duplicate_desa_names_get_deterministic_suffixed_slugs():
    raw = {
        "kab_kota": "Kabupaten Contoh",
        "kecamatan": [
            {
                "kec": "Kecamatan Satu",
                "kelurahan": [
                    {"kelu": "Sukamaju", "pos": 17620},
                    {"kelu": "Suka Maju", "pos": 17621},
                    {"kelu": "sukamaju", "pos": 17622},
                ],
            }
        ],
    }
    slugs = [d.slug for d in build_regency(raw, "Jawa Barat").kecamatans[0].desas]
    assert slugs == ["sukamaju", "suka-maju", "sukamaju-2"]
    assert [d.slug for d in build_regency(raw, "Jawa Barat").kecamatans[0].desas] == slugs
