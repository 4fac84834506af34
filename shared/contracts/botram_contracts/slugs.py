"""Subject tokens: lowercase ASCII slugs (`Muara Gembong` -> `muara-gembong`)."""

import re
import unicodedata

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Return the lowercase, hyphen-separated ASCII slug of a name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
