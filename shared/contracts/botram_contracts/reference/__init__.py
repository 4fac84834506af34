"""Reference data: the service catalogue and the regency's kecamatans and desas."""

from botram_contracts.reference.catalogue import (
    DEFAULT_CATALOGUE_PATH,
    Agency,
    Catalogue,
    CatalogueError,
    Service,
    load_catalogue,
)
from botram_contracts.reference.regions import (
    Desa,
    Kecamatan,
    Regency,
    UnknownRegionError,
    build_regency,
    load_regions,
)

__all__ = [
    "DEFAULT_CATALOGUE_PATH",
    "Agency",
    "Catalogue",
    "CatalogueError",
    "Desa",
    "Kecamatan",
    "Regency",
    "Service",
    "UnknownRegionError",
    "build_regency",
    "load_catalogue",
    "load_regions",
]
