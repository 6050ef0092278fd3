"""Which elements of a feed the fast path may meet, and how feedparser would name the others.

The fast path (``spiders.feed_fast``) reads a fixed set of elements. feedparser reads many more, and
some of them change the fields we store (``<media:title>`` and ``<dc:title>`` become the title, an Atom
``<id>`` becomes the link when there is no alternate link, ``<itunes:keywords>`` become categories...).
So every element of a feed must be one of:

* an element the fast path reads, at its place (``Place.read``), with attributes it knows;
* an element feedparser reads into fields we do not store, checked one by one against feedparser by
  ``tests/test_feed_conformance.py`` (``Place.harmless``, with the children each may hold);
* an element feedparser has no handler for, and whose name is none of the keys we take from
  feedparser's records: feedparser keeps it under its own name, which we never read.

Anything else makes the fast path decline (``Unsure``), and feedparser reads the feed. feedparser names an
element by the prefix it knows for the element's namespace (``NAMESPACES``; an unknown namespace keeps
the prefix written in the document) and its lower-cased local name; its handlers are ``HANDLED``. Both
tables are copies of feedparser's, and a test checks them against the installed feedparser.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
DC = "{http://purl.org/dc/elements/1.1/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
XML = "{http://www.w3.org/XML/1998/namespace}"


class Unsure(Exception):
    """Something the fast path does not read exactly as feedparser would."""


# feedparser's table of namespaces (lower-cased URI -> its prefix; "" for the feed formats themselves)
NAMESPACES = {
    "": "", "http://backend.userland.com/rss": "", "http://blogs.law.harvard.edu/tech/rss": "",
    "http://purl.org/rss/1.0/": "", "http://my.netscape.com/rdf/simple/0.9/": "",
    "http://example.com/newformat#": "", "http://example.com/necho": "", "http://purl.org/echo/": "",
    "uri/of/echo/namespace#": "", "http://purl.org/pie/": "", "http://purl.org/atom/ns#": "",
    "http://www.w3.org/2005/atom": "", "http://purl.org/rss/1.0/modules/rss091#": "",
    "http://webns.net/mvcb/": "admin", "http://purl.org/rss/1.0/modules/aggregation/": "ag",
    "http://purl.org/rss/1.0/modules/annotate/": "annotate", "http://media.tangent.org/rss/1.0/": "audio",
    "http://backend.userland.com/blogchannelmodule": "blogChannel", "http://creativecommons.org/ns#license": "cc",
    "http://web.resource.org/cc/": "cc", "http://purl.org/rss/1.0/modules/company": "co",
    "http://purl.org/rss/1.0/modules/content/": "content", "http://my.theinfo.org/changed/1.0/rss/": "cp",
    "http://cyber.law.harvard.edu/rss/creativecommonsrssmodule.html": "creativeCommons",
    "http://backend.userland.com/creativecommonsrssmodule": "creativeCommons",
    "http://purl.org/dc/elements/1.1/": "dc", "http://purl.org/dc/terms/": "dcterms",
    "http://purl.org/rss/1.0/modules/email/": "email", "http://purl.org/rss/1.0/modules/event/": "ev",
    "http://rssnamespace.org/feedburner/ext/1.0": "feedburner", "http://freshmeat.net/rss/fm/": "fm",
    "http://xmlns.com/foaf/0.1/": "foaf", "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://www.georss.org/georss": "georss", "http://www.opengis.net/gml": "gml",
    "http://postneo.com/icbm/": "icbm", "http://purl.org/rss/1.0/modules/image/": "image",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes", "http://example.com/dtds/podcast-1.0.dtd": "itunes",
    "http://purl.org/rss/1.0/modules/link/": "l", "http://search.yahoo.com/mrss": "media",
    "http://search.yahoo.com/mrss/": "media", "http://madskills.com/public/xml/rss/module/pingback/": "pingback",
    "http://prismstandard.org/namespaces/1.2/basic/": "prism", "http://podlove.org/simple-chapters": "psc",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf", "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://purl.org/rss/1.0/modules/reference/": "ref", "http://purl.org/rss/1.0/modules/richequiv/": "reqv",
    "http://purl.org/rss/1.0/modules/search/": "search", "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://schemas.xmlsoap.org/soap/envelope/": "soap", "http://purl.org/rss/1.0/modules/servicestatus/": "ss",
    "http://hacks.benhammersley.com/rss/streaming/": "str", "http://purl.org/rss/1.0/modules/subscription/": "sub",
    "http://purl.org/rss/1.0/modules/syndication/": "sy", "http://schemas.pocketsoap.com/rss/mydescmodule/": "szf",
    "http://purl.org/rss/1.0/modules/taxonomy/": "taxo", "http://purl.org/rss/1.0/modules/threading/": "thr",
    "http://purl.org/rss/1.0/modules/textinput/": "ti",
    "http://madskills.com/public/xml/rss/module/trackback/": "trackback",
    "http://wellformedweb.org/commentapi/": "wfw", "http://purl.org/rss/1.0/modules/wiki/": "wiki",
    "http://www.w3.org/1999/xhtml": "xhtml", "http://www.w3.org/1999/xlink": "xlink",
    "http://www.w3.org/xml/1998/namespace": "xml",
}

# the element names feedparser has a handler for (lower-cased)
HANDLED = frozenset("""
abstract author body category cc_license channel cloud content content_encoded contributor copyright created
creativecommons_license dc_author dc_contributor dc_creator dc_date dc_description dc_language dc_publisher
dc_rights dc_subject dc_title dcterms_created dcterms_issued dcterms_modified dcterms_valid description email
enclosure entry expirationdate feed feedburner_browserfriendly fullitem generator geom georss_box georss_line
georss_point georss_polygon georss_where georssgeom gml_exterior gml_linearring gml_linestring gml_point
gml_polygon gml_pos gml_poslist guid height homepage id image info issued item itunes_author itunes_block
itunes_category itunes_email itunes_explicit itunes_image itunes_keywords itunes_link itunes_name itunes_owner
itunes_subtitle itunes_summary keywords language lastbuilddate link managingeditor media_category
media_content media_credit media_description media_group media_keywords media_license media_player
media_rating media_restriction media_thumbnail media_title modified name newlocation psc_chapter psc_chapters
pubdate published rights rss source subtitle summary tagline tags textinput title updated uri url webmaster
where width xhtml_body
""".split())

# the keys of feedparser's records that spiders.feed_parse reads: an element without a handler is stored
# under its own name, so one with any of these names would change what we read
KEYS_READ = frozenset("""
title title_detail link links summary summary_detail description content tags category author author_detail
authors id guidislink published published_parsed updated updated_parsed created created_parsed source ttl
""".split())

_GEO = {"georss_point", "georss_line", "georss_polygon", "georss_box", "georss_where", "where", "gml_point",
        "gml_linestring", "gml_polygon", "gml_exterior", "gml_linearring", "gml_pos", "gml_poslist", "geom"}
_PERSON = {"name": frozenset(), "email": frozenset(), "uri": frozenset(), "homepage": frozenset()}
_LEAF: frozenset[str] = frozenset()

# handled elements feedparser reads into fields we do not store, and the handled children each may hold;
# every name is checked against feedparser by tests/test_feed_conformance.py
ITEM_HARMLESS: dict[str, frozenset[str]] = {
    **{name: _LEAF for name in (
        "enclosure", "comments", "media_content", "media_thumbnail", "media_credit", "media_rating",
        "media_restriction", "media_license", "media_player", "itunes_explicit", "itunes_image", "itunes_block",
        "itunes_subtitle", "expirationdate", "cc_license", "creativecommons_license", "rights", "dc_rights",
        "copyright", "dc_language", "language", "psc_chapter", "url", "width", "height")},
    **{name: frozenset(_GEO) for name in _GEO},
    "psc_chapters": frozenset({"psc_chapter"}),
    "contributor": frozenset(_PERSON),
    "dc_contributor": _LEAF,
}
FEED_HARMLESS: dict[str, frozenset[str]] = {
    **{name: _LEAF for name in (
        "description", "subtitle", "tagline", "info", "language", "dc_language", "copyright", "rights",
        "dc_rights", "managingeditor", "webmaster", "dc_creator", "dc_author", "itunes_author", "dc_publisher",
        "pubdate", "lastbuilddate", "updated", "modified", "published", "dc_date", "created", "issued",
        "dcterms_created", "dcterms_issued", "dcterms_modified", "category", "dc_subject", "itunes_keywords",
        "media_category", "media_keywords", "generator", "cloud", "itunes_image", "itunes_explicit",
        "itunes_block", "itunes_summary", "itunes_subtitle", "feedburner_browserfriendly", "cc_license",
        "creativecommons_license", "media_thumbnail", "media_rating", "media_credit", "media_restriction",
        "media_license", "dc_contributor", "newlocation")},
    **{name: frozenset(_GEO) for name in _GEO},
    "image": frozenset({"title", "url", "link", "width", "height", "description"}),
    "textinput": frozenset({"title", "description", "name", "link"}),
    "itunes_owner": frozenset({"itunes_name", "itunes_email"}),
    "itunes_category": frozenset({"itunes_category"}),
    "author": frozenset(_PERSON),
    "contributor": frozenset(_PERSON),
}
# what the children allowed above are, where they stand
_CHILDREN_HARMLESS = {name: _LEAF for name in ("title", "url", "link", "width", "height", "description", "name",
                                                "email", "uri", "homepage", "itunes_name", "itunes_email",
                                                "itunes_category", "psc_chapter", *_GEO)}


@dataclass(frozen=True)
class Rule:
    """An element the fast path reads: the attributes it may carry, whether it may repeat."""

    attrs: frozenset[str] = frozenset()
    repeats: bool = False


@dataclass
class Place:
    """The elements the fast path reads inside one kind of element (item, entry, channel...)."""

    read: dict[str, Rule]
    harmless: dict[str, frozenset[str]]
    prefixes: dict[str, str] = field(default_factory=dict)  # the document's prefixes of known namespaces


def feedparser_name(el, prefixes: dict[str, str]) -> str:
    """The name feedparser dispatches ``el`` by: "dc_creator", "title", "media_title"..."""
    tag = el.tag
    ns, _, local = tag[1:].partition("}") if tag[:1] == "{" else ("", "", tag)
    lowered = ns.lower()
    if "backend.userland.com/rss" in lowered:
        lowered = "http://backend.userland.com/rss"
    prefix = NAMESPACES.get(lowered)
    if prefix is None:  # an unknown namespace: feedparser goes by the prefix the document wrote
        prefix = el.prefix or ""
        if prefix in prefixes:  # ... which the root binds to a namespace feedparser knows: it would use that one
            raise Unsure(f"prefix {prefix!r} of {tag} rebound")
    return f"{prefix}_{local}".lower() if prefix else local.lower()


def _harmless(el, allowed: dict[str, frozenset[str]], prefixes: dict[str, str]) -> None:
    """Raise Unsure unless feedparser reads ``el`` (and everything in it) into fields we do not store."""
    name = feedparser_name(el, prefixes)
    children = allowed.get(name)
    if children is None:
        if name in HANDLED or name in KEYS_READ:
            raise Unsure(f"element {el.tag}")
        children = _LEAF  # no handler: feedparser keeps it under its own name; its children still count
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if feedparser_name(child, prefixes) in children:
            _harmless(child, _CHILDREN_HARMLESS, prefixes)
        else:
            _harmless(child, _LEAF_TABLE, prefixes)


_LEAF_TABLE: dict[str, frozenset[str]] = {}


def no_base(el) -> None:
    if el.get(XML + "base") is not None:  # feedparser resolves links against xml:base; the fast path does not
        raise Unsure("xml:base")


def read_children(parent, place: Place, skip: frozenset[str] = frozenset()) -> dict[str, list]:
    """The children of ``parent`` the fast path reads, by tag, in document order; raises Unsure for anything
    that would make feedparser's records differ (see the module docstring). Tags in ``skip`` (the items of
    a channel) are left to the caller."""
    no_base(parent)
    for attr in parent.attrib:  # feedparser takes these of an item or a channel as its link and its date
        if attr.rpartition("}")[2].lower() in ("href", "lastmod"):
            raise Unsure(f"attribute {attr} of {parent.tag}")
    found: dict[str, list] = {}
    for child in parent:
        tag = child.tag
        if not isinstance(tag, str) or tag in skip:
            continue
        rule = place.read.get(tag)
        if rule is None:
            _harmless(child, place.harmless, place.prefixes)
            continue
        if tag in found and not rule.repeats:
            raise Unsure(f"two {tag}")
        for attr in child.attrib:
            if attr not in rule.attrs and attr != XML + "lang":
                raise Unsure(f"attribute {attr} of {tag}")
        found.setdefault(tag, []).append(child)
    return found


def known_prefixes(root) -> dict[str, str]:
    """The root's prefixes of namespaces feedparser knows, mapped to feedparser's prefixes."""
    out = {}
    for written, uri in root.nsmap.items():
        if written and uri.lower() in NAMESPACES:
            out[written] = NAMESPACES[uri.lower()]
    return out
