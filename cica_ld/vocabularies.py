"""Labels of the terms of well-known vocabularies, for pages that name properties and classes.

A page names a property by its ``rdfs:label`` when the data (or the vocabulary loaded with it)
gives one, else by the label here, else by its prefixed name. The vocabularies' own Turtle
files are not bundled (some are large, some have no clear licence): this is a table of their
terms and the English labels their specifications use, written as lower-case words (``member
during`` for ``org:memberDuring``, ``was derived from`` for ``prov:wasDerivedFrom``; classes
capitalised: ``Proper interval``). Irregular labels are listed explicitly; the others are the
local name split at its capitals, which is what those specifications label them.
"""

from __future__ import annotations

import functools
import re

_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "time": "http://www.w3.org/2006/time#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "vann": "http://purl.org/vocab/vann/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "wgs84": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "adms": "http://www.w3.org/ns/adms#",
    "locn": "http://www.w3.org/ns/locn#",
    "schema": "https://schema.org/",
    "schema-http": "http://schema.org/",
}

# Terms whose label is their local name split at capitals (classes capitalised).
_REGULAR = {
    "rdf": "type value first rest subject predicate object Property Statement List Bag Seq Alt",
    "rdfs": (
        "label comment seeAlso isDefinedBy subClassOf subPropertyOf domain range member "
        "Class Resource Literal Datatype Container"
    ),
    "owl": (
        "sameAs differentFrom versionIRI versionInfo priorVersion backwardCompatibleWith "
        "incompatibleWith imports inverseOf equivalentClass equivalentProperty disjointWith "
        "deprecated onProperty someValuesFrom allValuesFrom hasValue cardinality minCardinality "
        "maxCardinality unionOf intersectionOf complementOf oneOf propertyChainAxiom "
        "annotatedSource annotatedProperty annotatedTarget Class Ontology ObjectProperty "
        "DatatypeProperty AnnotationProperty NamedIndividual Restriction Thing Axiom "
        "TransitiveProperty SymmetricProperty FunctionalProperty InverseFunctionalProperty"
    ),
    "skos": (
        "notation note changeNote definition editorialNote example historyNote scopeNote "
        "broader narrower related broaderTransitive narrowerTransitive semanticRelation "
        "inScheme hasTopConcept topConceptOf member memberList exactMatch closeMatch "
        "broadMatch narrowMatch relatedMatch mappingRelation Concept ConceptScheme Collection "
        "OrderedCollection"
    ),
    "dcterms": (
        "title description abstract alternative created modified issued date available valid "
        "creator contributor publisher rightsHolder subject source relation isPartOf hasPart "
        "isVersionOf hasVersion isReplacedBy replaces requires isRequiredBy references "
        "isReferencedBy conformsTo format extent medium language license rights accessRights "
        "coverage spatial temporal type identifier bibliographicCitation audience provenance "
        "accrualPeriodicity Agent Location PeriodOfTime LicenseDocument Standard "
        "MediaTypeOrExtent"
    ),
    "dc": "title description creator contributor publisher subject date type format "
    "identifier source language relation coverage rights",
    "foaf": (
        "name title nick givenName familyName surname firstName lastName gender age birthday "
        "homepage page weblog depiction img logo knows member interest topic primaryTopic "
        "isPrimaryTopicOf made maker account accountName accountServiceHomepage holdsAccount "
        "openid phone workplaceHomepage workInfoHomepage schoolHomepage publications "
        "currentProject pastProject fundedBy theme focus Person Organization Group Agent "
        "Document Image Project OnlineAccount"
    ),
    "org": (
        "member memberOf hasMember memberDuring organization role roleProperty hasMembership "
        "subOrganizationOf hasSubOrganization transitiveSubOrganizationOf unitOf hasUnit "
        "hasSite siteOf hasPrimarySite hasRegisteredSite basedAt siteAddress headOf "
        "reportsTo post hasPost postIn heldBy holds purpose classification identifier "
        "linkedTo location originalOrganization changedBy resultedFrom resultingOrganization "
        "Organization FormalOrganization OrganizationalUnit OrganizationalCollaboration "
        "Membership Role Post Site ChangeEvent"
    ),
    "time": (
        "hasBeginning hasEnd hasTime hasDuration hasTemporalDuration inside before after "
        "intervalMeets intervalMetBy intervalBefore intervalAfter intervalDuring "
        "intervalContains intervalOverlaps intervalOverlappedBy intervalStarts "
        "intervalStartedBy intervalFinishes intervalFinishedBy intervalEquals intervalIn "
        "intervalDisjoint inDateTime inTimePosition numericDuration unitType year month day "
        "hour minute second timeZone Instant Interval ProperInterval TemporalEntity "
        "DateTimeDescription Duration TemporalUnit"
    ),
    "prov": (
        "wasDerivedFrom wasGeneratedBy wasAttributedTo wasAssociatedWith wasInformedBy "
        "wasStartedBy wasEndedBy wasInvalidatedBy wasInfluencedBy wasRevisionOf "
        "wasQuotedFrom hadPrimarySource actedOnBehalfOf used generated invalidated "
        "influenced atLocation startedAtTime endedAtTime generatedAtTime invalidatedAtTime "
        "atTime value hadMember hadRole hadPlan specializationOf alternateOf "
        "qualifiedAssociation qualifiedAttribution qualifiedDerivation qualifiedGeneration "
        "qualifiedUsage agent activity entity Entity Activity Agent Person Organization "
        "SoftwareAgent Location Plan Collection Bundle Role Association Attribution "
        "Derivation Generation Usage"
    ),
    "dcat": (
        "dataset distribution catalog service accessURL downloadURL accessService byteSize "
        "mediaType compressFormat packageFormat keyword theme themeTaxonomy contactPoint "
        "landingPage endpointURL endpointDescription servesDataset spatialResolutionInMeters "
        "temporalResolution startDate endDate bbox centroid version hadRole record "
        "Catalog Dataset Distribution DataService CatalogRecord Relationship"
    ),
    "void": (
        "triples entities classes properties distinctSubjects distinctObjects documents "
        "sparqlEndpoint dataDump exampleResource rootResource uriSpace uriRegexPattern "
        "vocabulary subset classPartition propertyPartition linkPredicate objectsTarget "
        "subjectsTarget target feature inDataset Dataset Linkset DatasetDescription"
    ),
    "vann": "preferredNamespacePrefix preferredNamespaceUri example changes",
    "geo": "hasGeometry hasDefaultGeometry asWKT asGeoJSON sfWithin sfContains Feature "
    "Geometry SpatialObject",
    "wgs84": "lat long alt location Point SpatialThing",
    "vcard": "fn hasEmail hasTelephone hasAddress hasURL organizationName Kind Individual "
    "Organization Address",
    "adms": "identifier status versionNotes sample Identifier",
    "locn": "address geometry fullAddress postCode postName thoroughfare adminUnitL1 Address",
    "schema": (
        "name alternateName description url sameAs identifier image author creator publisher "
        "datePublished dateCreated dateModified startDate endDate birthDate deathDate "
        "birthPlace deathPlace location address addressLocality addressRegion addressCountry "
        "postalCode streetAddress email telephone jobTitle worksFor affiliation memberOf member "
        "knows nationality organizer performer about keywords license citation isPartOf "
        "hasPart mainEntityOfPage numberOfEmployees founder foundingDate parentOrganization "
        "subOrganization roleName workExample inLanguage contentUrl encodingFormat "
        "Thing Person Organization Place Country City Event CreativeWork Book Article Dataset "
        "PostalAddress GovernmentOrganization DefinedTerm DefinedTermSet OrganizationRole "
        "Role Claim Project WebPage"
    ),
}
_REGULAR["schema-http"] = _REGULAR["schema"]

# Terms whose specification labels them otherwise than their split local name.
_IRREGULAR = {
    "rdf": {"type": "type", "Property": "Property"},
    "skos": {
        "prefLabel": "preferred label",
        "altLabel": "alternative label",
        "hiddenLabel": "hidden label",
    },
    "dcterms": {"isPartOf": "is part of", "hasPart": "has part", "rightsHolder": "rights holder"},
    "foaf": {
        "mbox": "personal mailbox",
        "mbox_sha1sum": "sha1sum of a personal mailbox URI name",
        "based_near": "based near",
        "topic_interest": "topic interest",
        "img": "image",
        "nick": "nickname",
    },
    "time": {
        "inXSDDate": "in XSD date",
        "inXSDDateTime": "in XSD date-time",
        "inXSDDateTimeStamp": "in XSD date-time-stamp",
        "inXSDgYear": "in XSD g-year",
        "inXSDgYearMonth": "in XSD g-yearMonth",
    },
    "dcat": {"accessURL": "access address", "downloadURL": "download URL", "bbox": "bounding box"},
    "void": {"uriSpace": "URI space", "dataDump": "data dump"},
    "vann": {"preferredNamespaceUri": "preferred namespace URI"},
    "geo": {"asWKT": "as WKT", "asGeoJSON": "as GeoJSON"},
    "wgs84": {"lat": "latitude", "long": "longitude", "alt": "altitude"},
    "vcard": {"fn": "formatted name", "hasURL": "has URL"},
    "schema": {"url": "URL"},
}
_IRREGULAR["schema-http"] = _IRREGULAR["schema"]

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def split_name(local: str) -> str:
    """``memberDuring`` -> ``member during``; ``ProperInterval`` -> ``Proper interval``;
    acronyms stay (``accessURL`` -> ``access URL``)."""
    words = _CAMEL.sub(" ", local.replace("_", " ")).split()
    out = []
    for i, w in enumerate(words):
        keep = w.isupper() and len(w) > 1
        out.append(w if keep or (i == 0 and w[:1].isupper()) else w.lower())
    return " ".join(out)


@functools.lru_cache(maxsize=1)
def labels() -> dict[str, str]:
    """IRI -> English label for every term of the table."""
    out: dict[str, str] = {}
    for prefix, names in _REGULAR.items():
        ns = _NS[prefix]
        for name in names.split():
            out[ns + name] = split_name(name)
    for prefix, names in _IRREGULAR.items():
        for name, label in names.items():
            out[_NS[prefix] + name] = label
    return out


def label(iri: str) -> str | None:
    """The well-known label of ``iri``, or None."""
    return labels().get(iri)
