"""Stack settings: the ``gpu-platform:*`` keys of ``Pulumi.<stack>.yaml``.

| key                        | meaning                                                        |
|----------------------------|----------------------------------------------------------------|
| ``environment``            | dev, staging or prod: picks the profile (stacks/profiles.py)   |
| ``blueprint``              | a name in ``blueprints/`` or a path to a YAML file             |
| ``target``                 | docker, kubernetes, aws, gcp or azure                          |
| ``pools``                  | per-pool target settings, e.g. ``{gpu: {host: ssh://u@h}}``   |
| ``overrides``              | deep-merged into the blueprint before validation               |
| ``domain``                 | public host name (TLS certificates, CORS)                      |
| ``cors_origins``           | allowed origins in staging/prod (dev allows ``*``)             |
| ``tls``                    | ``{certificate, private_key}`` PEM for CA-issued TLS (secret)  |
| ``docker`` / ``kubernetes`` / ``aws`` / ``gcp`` / ``azure`` | target-wide settings      |
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from targets import TARGETS

PROJECT = "gpu-platform"


class TlsSettings(BaseModel):
    """A CA-issued certificate and key (store the key with ``pulumi config set --secret``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate: str
    private_key: str

    @field_validator("certificate", "private_key")
    @classmethod
    def _pem(cls, value: str) -> str:
        if "-----BEGIN " not in value:
            raise ValueError("must be PEM text starting with -----BEGIN")
        return value


class StackSettings(BaseModel):
    """The validated ``gpu-platform:`` namespace of one stack's config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Literal["dev", "staging", "prod"]
    blueprint: str = Field(min_length=1)
    target: str
    pools: dict[str, dict[str, Any]] = Field(default_factory=dict)
    overrides: dict[str, Any] = Field(default_factory=dict)
    domain: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    cors_origins: list[str] | None = None
    tls: TlsSettings | None = None
    docker: dict[str, Any] = Field(default_factory=dict)
    kubernetes: dict[str, Any] = Field(default_factory=dict)
    aws: dict[str, Any] = Field(default_factory=dict)
    gcp: dict[str, Any] = Field(default_factory=dict)
    azure: dict[str, Any] = Field(default_factory=dict)

    @field_validator("target")
    @classmethod
    def _known_target(cls, value: str) -> str:
        if value not in TARGETS:
            raise ValueError(f"allowed targets: {', '.join(TARGETS)}")
        return value
