"""The usage file: quantities a price table cannot know (data processed, logs ingested, requests).

Its shape follows Infracost's usage file (``infracost-usage.yml``, version 0.1)::

    version: 0.1
    resource_type_default_usage:        # by type token, for every resource of the type
      aws:ec2/natGateway:NatGateway:
        monthly_data_processed_gb: 200
    resource_usage:                      # by recorded resource name, wins over the type default
      aws-nat-0:
        monthly_data_processed_gb: 500

Every key a target reads has a default stated in its cost module; the estimate shows each
usage-driven line's value and whether it came from the file or the default, so an assumption
is never hidden inside a total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from stacks.errors import fail

VERSION = "0.1"


@dataclass(frozen=True)
class Usage:
    """A parsed usage file (empty: every default applies)."""

    by_type: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    by_resource: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = ""

    def value(self, resource: str, token: str, key: str, default: Decimal) -> tuple[Decimal, str]:
        """(quantity, how it was chosen) for one usage key of one resource."""
        for scope, where in ((self.by_resource.get(resource), "resource_usage"), (self.by_type.get(token), "type")):
            if scope and key in scope:
                return Decimal(str(scope[key])), f"{key}={scope[key]} ({self.source or 'usage file'}, {where})"
        return default, f"{key}={default} (default; set it in a usage file, see docs/cost.md)"


def load_usage(path: Path | None) -> Usage:
    """Read a usage file; one-line ConfigError naming the key and what is allowed when it is wrong."""
    if path is None:
        return Usage()
    shown = str(path)
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except OSError as error:
        raise fail(shown, "(file)", shown, f"cannot read the usage file: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise fail(shown, "(file)", shown, f"the usage file must be valid YAML ({error})") from None
    if not isinstance(document, dict):
        raise fail(shown, "(top level)", type(document).__name__, "a mapping with version, resource_usage, ...")
    if str(document.get("version", VERSION)) != VERSION:
        raise fail(shown, "version", document.get("version"), f"usage file version {VERSION}")
    unknown = set(document) - {"version", "resource_type_default_usage", "resource_usage"}
    if unknown:
        raise fail(
            shown, sorted(unknown)[0], "(key)", "allowed keys: version, resource_type_default_usage, resource_usage"
        )
    return Usage(
        by_type=_section(shown, document, "resource_type_default_usage"),
        by_resource=_section(shown, document, "resource_usage"),
        source=shown,
    )


def _section(shown: str, document: Mapping[str, Any], key: str) -> dict[str, dict[str, Any]]:
    section = document.get(key) or {}
    if not isinstance(section, dict):
        raise fail(shown, key, type(section).__name__, "a mapping of names to {usage key: number}")
    for name, values in section.items():
        if not isinstance(values, dict):
            raise fail(shown, f"{key}.{name}", values, "a mapping of usage keys to numbers")
        for usage_key, number in values.items():
            try:
                ok = not isinstance(number, bool) and Decimal(str(number)) >= 0
            except InvalidOperation:
                ok = False
            if not ok:
                raise fail(shown, f"{key}.{name}.{usage_key}", number, "a number >= 0")
    return section
