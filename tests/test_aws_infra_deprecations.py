"""No deprecated pulumi-aws resource class is used, registered or named by the policy pack or the preview.

The deprecated set is read from the installed SDK itself: a module that warns
"has been deprecated in favor of" at import declares the type token it marks.
(Those import-time warnings are the SDK's own, printed whenever a pulumi_aws
submodule loads; they say nothing about our code, this test does.)
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pulumi_aws
import pytest

from tests.conftest import shipped
from tests.test_aws_infra_iam import BLUEPRINTS, aws_result

ROOT = Path(__file__).resolve().parent.parent
SDK = Path(pulumi_aws.__file__).parent
TOKEN = re.compile(r'@pulumi\.type_token\("([^"]+)"\)\nclass \w+\(pulumi\.CustomResource\):\n    warnings\.warn\(')


@cache
def deprecated_tokens() -> frozenset[str]:
    found = set()
    for module in SDK.glob("*/*.py"):
        text = module.read_text()
        if "has been deprecated in favor of" in text:
            found.update(TOKEN.findall(text))
    return frozenset(found)


def test_the_sdk_scan_finds_the_known_deprecations() -> None:
    """Positive control: the classes the review named are in the set, their replacements are not."""
    tokens = deprecated_tokens()
    assert {"aws:s3/bucketV2:BucketV2", "aws:s3/bucketLoggingV2:BucketLoggingV2"} <= tokens
    assert "aws:s3/bucket:Bucket" not in tokens


@pytest.mark.parametrize("blueprint", [None, *BLUEPRINTS], ids=["prod-as-shipped", *BLUEPRINTS])
def test_no_registered_resource_is_of_a_deprecated_class(blueprint: str | None) -> None:
    result = shipped("prod") if blueprint is None else aws_result(blueprint)
    used = {r.type for r in result.resources}
    assert not used & deprecated_tokens()


def test_no_source_names_a_deprecated_token() -> None:
    """Rules and preview code key on type tokens: none of them may be a deprecated one."""
    tokens = deprecated_tokens()
    offenders = []
    for folder in ("targets", "policy", "preview", "stacks", "components", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.name == Path(__file__).name:
                continue
            text = path.read_text()
            offenders += [f"{path.relative_to(ROOT)}: {t}" for t in tokens if f'"{t}"' in text]
    assert offenders == []
