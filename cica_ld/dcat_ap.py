"""What a publisher states of its dataset beyond the data, for DCAT-AP 3's recommended
properties: the issue and modification dates, the planned availability of the distributions,
the publisher's type, the licence's type and the geometry of the spatial coverage
(``cica-ld publish --issued --modified --availability --publisher-type --license-type
--spatial-bbox --spatial-centroid``), each checked here (a :class:`UsageError`, exit 2, with a
one-line message) against the vocabulary DCAT-AP names for it.

The vocabularies (IRIs as their publishers write them):

- planned availability: the EU Publications Office's authority table
  ``http://publications.europa.eu/resource/authority/planned-availability/`` (AVAILABLE,
  EXPERIMENTAL, STABLE, TEMPORARY; the one DCAT-AP 3 recommends) and its DCAT-AP 2.0
  predecessor ``http://data.europa.eu/r5r/availability/`` (lower case);
- publisher type: ADMS's ``http://purl.org/adms/publishertype/``;
- licence type: ADMS's ``http://purl.org/adms/licencetype/``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from cica_ld.errors import UsageError

AVAILABILITY = "http://publications.europa.eu/resource/authority/planned-availability/"
AVAILABILITY_R5R = "http://data.europa.eu/r5r/availability/"
AVAILABILITY_CODES = ("AVAILABLE", "EXPERIMENTAL", "STABLE", "TEMPORARY")
PUBLISHER_TYPE = "http://purl.org/adms/publishertype/"
PUBLISHER_TYPES = (
    "Academia-ScientificOrganisation",
    "Company",
    "IndustryConsortium",
    "LocalAuthority",
    "NationalAuthority",
    "NonGovernmentalOrganisation",
    "NonProfitOrganisation",
    "PrivateIndividual(s)",
    "RegionalAuthority",
    "StandardisationBody",
    "SupraNationalAuthority",
)
LICENCE_TYPE = "http://purl.org/adms/licencetype/"
LICENCE_TYPES = (
    "Attribution",
    "GrantBack",
    "JurisdictionWithinTheEU",
    "KnownPatentEncumbrance",
    "NoDerivativeWork",
    "NominalCost",
    "NonCommercialUseOnly",
    "OtherRestrictiveClauses",
    "PublicDomain",
    "ReservedNames-Endorsement-OfficialStatus",
    "RoyaltiesRequired",
    "ShareAlike-Compatible",
    "ShareAlike-NotCompatible",
    "UnknownIPR",
    "ViralEffect-ShareAlike",
)
#: Licences whose ADMS type their own text states: the MIT licence's one condition is that
#: "the above copyright notice and this permission notice shall be included in all copies or
#: substantial portions of the Software" (attribution; no share-alike, no other restriction).
KNOWN_LICENCE_TYPES: dict[str, tuple[str, ...]] = {
    "https://opensource.org/licenses/MIT": (LICENCE_TYPE + "Attribution",),
    "http://opensource.org/licenses/MIT": (LICENCE_TYPE + "Attribution",),
}
#: GeoSPARQL's datatype of WKT geometries (DCAT's examples of dcat:bbox and dcat:centroid).
WKT_LITERAL = "http://www.opengis.net/ont/geosparql#wktLiteral"


@dataclass(frozen=True)
class Publication:
    """The publisher's own statements (IRIs and lexical forms, already checked): ``issued`` and
    ``modified`` (``YYYY-MM-DD`` or an ISO date-time with its zone) of the catalogue and the
    dataset, ``availability`` of every distribution, ``publisher_type`` of the publisher,
    ``license_type`` of the licence, ``bbox`` and ``centroid`` (WKT) of the spatial coverage.
    None: not stated (the data's own statement, or nothing)."""

    issued: str | None = None
    modified: str | None = None
    availability: str | None = None
    publisher_type: str | None = None
    license_type: tuple[str, ...] = ()
    bbox: str | None = None
    centroid: str | None = None


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def check_date(value: str, option: str) -> str:
    """``value`` if it is an ISO 8601 date (``2026-11-28``) or date-time with a zone
    (``2026-11-28T10:00:00Z``), as ``xsd:date``/``xsd:dateTime`` write them; else a
    :class:`UsageError` naming ``option``."""
    ok = False
    try:
        if _DATE.match(value):
            datetime.date.fromisoformat(value)
            ok = True
        elif _DATETIME.match(value):
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            ok = True
    except ValueError:
        ok = False
    if not ok:
        raise UsageError(
            f"{option}: not an ISO date {value!r} (give YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)"
        )
    return value


def is_datetime(value: str) -> bool:
    """Whether a checked date is a date-time (``xsd:dateTime``) rather than a date."""
    return "T" in value


def _choose(value: str, option: str, names: tuple[str, ...], namespace: str) -> str:
    """The IRI ``value`` names: a full IRI of ``namespace`` with one of ``names``, or the name
    alone (case-insensitive)."""
    if value.startswith(namespace) and value[len(namespace) :] in names:
        return value
    by_lower = {n.lower(): n for n in names}
    if value.lower() in by_lower:
        return namespace + by_lower[value.lower()]
    choices = ", ".join(names)
    raise UsageError(f"{option}: not a value of {namespace}: {value!r} (one of: {choices})")


def check_availability(value: str) -> str:
    """The planned-availability IRI of ``value``: a name (``stable``) gives the authority
    table's IRI; an IRI of the authority table or of its DCAT-AP 2.0 predecessor is kept."""
    rest = value[len(AVAILABILITY_R5R) :]
    if value.startswith(AVAILABILITY_R5R) and rest.islower() and rest.upper() in AVAILABILITY_CODES:
        return value
    return _choose(value, "--availability", AVAILABILITY_CODES, AVAILABILITY)


def check_publisher_type(value: str) -> str:
    """The ADMS publisher-type IRI of ``value`` (``NonProfitOrganisation``, or its IRI)."""
    return _choose(value, "--publisher-type", PUBLISHER_TYPES, PUBLISHER_TYPE)


def check_license_type(value: str) -> str:
    """The ADMS licence-type IRI of ``value`` (``Attribution``, or its IRI)."""
    return _choose(value, "--license-type", LICENCE_TYPES, LICENCE_TYPE)


_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_POSITION = rf"\s*({_NUMBER})\s+({_NUMBER})\s*"
_POINT = re.compile(rf"^\s*POINT\s*\({_POSITION}\)\s*$", re.IGNORECASE)
_POLYGON = re.compile(r"^\s*POLYGON\s*\(\s*\((.*)\)\s*\)\s*$", re.IGNORECASE | re.DOTALL)


def _position(text: str, option: str, value: str) -> tuple[float, float]:
    found = re.fullmatch(_POSITION, text)
    if not found:
        raise UsageError(f"{option}: not a WKT position {text.strip()!r} in {value!r}")
    lon, lat = float(found.group(1)), float(found.group(2))
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise UsageError(
            f"{option}: {text.strip()!r} is outside longitude -180..180, latitude -90..90 "
            "(WKT in WGS 84 is longitude first)"
        )
    return lon, lat


def check_centroid(value: str) -> str:
    """``value`` if it is a WKT point in WGS 84 (``POINT(lon lat)``); else a
    :class:`UsageError` naming ``--spatial-centroid``."""
    found = _POINT.match(value)
    if not found:
        raise UsageError(f"--spatial-centroid: not a WKT POINT(lon lat): {value!r}")
    _position(f"{found.group(1)} {found.group(2)}", "--spatial-centroid", value)
    return " ".join(value.split())


def check_bbox(value: str) -> str:
    """``value`` if it is a WKT polygon in WGS 84 with one closed ring of at least four
    positions and some area (``POLYGON((w s, e s, e n, w n, w s))``); else a
    :class:`UsageError` naming ``--spatial-bbox``."""
    found = _POLYGON.match(value)
    if not found or "(" in found.group(1) or ")" in found.group(1):
        raise UsageError(f"--spatial-bbox: not a WKT POLYGON((lon lat, ...)): {value!r}")
    ring = [_position(p, "--spatial-bbox", value) for p in found.group(1).split(",")]
    if len(ring) < 4 or ring[0] != ring[-1]:
        raise UsageError(
            f"--spatial-bbox: the ring of {value!r} is not closed (at least 4 positions, the "
            "last one the first)"
        )
    lons, lats = {p[0] for p in ring}, {p[1] for p in ring}
    if len(lons) < 2 or len(lats) < 2:
        raise UsageError(f"--spatial-bbox: {value!r} has no area")
    return " ".join(value.split())


def publication(
    *,
    issued: str | None = None,
    modified: str | None = None,
    availability: str | None = None,
    publisher_type: str | None = None,
    license_type: tuple[str, ...] | list[str] = (),
    bbox: str | None = None,
    centroid: str | None = None,
) -> dict[str, object]:
    """The :class:`Publication` fields the options give, each checked (a
    :class:`UsageError` for the first bad one); fields not given are left out, so the result
    can replace a default's fields (``dataclasses.replace(default, **fields)``)."""
    fields: dict[str, object] = {}
    if issued is not None:
        fields["issued"] = check_date(issued, "--issued")
    if modified is not None:
        fields["modified"] = check_date(modified, "--modified")
    if issued is not None and modified is not None and modified[:10] < issued[:10]:
        raise UsageError(f"--modified {modified} is before --issued {issued}")
    if availability is not None:
        fields["availability"] = check_availability(availability)
    if publisher_type is not None:
        fields["publisher_type"] = check_publisher_type(publisher_type)
    if license_type:
        fields["license_type"] = tuple(dict.fromkeys(check_license_type(t) for t in license_type))
    if bbox is not None:
        fields["bbox"] = check_bbox(bbox)
    if centroid is not None:
        fields["centroid"] = check_centroid(centroid)
    return fields
