"""Safe XML handling for WeCom callbacks: no DOCTYPE, no entities, flat `<xml>` documents."""

from xml.etree.ElementTree import tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring


class UnsafeXml(ValueError):
    """Raised for XML that declares a DOCTYPE or entities."""


class MalformedXml(ValueError):
    """Raised for a body that is not a flat WeCom `<xml>` document."""


def parse_flat_xml(body: bytes | str) -> dict[str, str]:
    """Parse a WeCom `<xml>` document into its child elements' texts.

    Nested elements (a card event's `SelectedItems`) are kept as their inner XML text,
    and callers that need them parse that text again with this function.
    """
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml(type(exc).__name__) from exc
    except ParseError as exc:
        raise MalformedXml(str(exc)) from exc
    if root.tag != "xml":
        raise MalformedXml(f"root element is <{root.tag}>, expected <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if len(child):
            fields[child.tag] = "".join(_inner_xml(grandchild) for grandchild in child)
        else:
            fields[child.tag] = (child.text or "").strip() if child.tag != "Content" else (child.text or "")
    return fields


def _inner_xml(element) -> str:
    return tostring(element, encoding="unicode")
