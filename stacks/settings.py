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

    certificate: str = Field(description="The PEM certificate chain (-----BEGIN ...). Required.")
    private_key: str = Field(description="The PEM private key; set it with pulumi config set --secret. Required.")

    @field_validator("certificate", "private_key")
    @classmethod
    def _pem(cls, value: str) -> str:
        if "-----BEGIN " not in value:
            raise ValueError("must be PEM text starting with -----BEGIN")
        return value


class StackSettings(BaseModel):
    """The validated ``gpu-platform:`` namespace of one stack's config."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    environment: Literal["dev", "staging", "prod"] = Field(
        description="dev, staging or prod: picks the environment profile (stacks/profiles.py). Required."
    )
    blueprint: str = Field(
        min_length=1,
        description=(
            "A name in blueprints/ (e.g. reference) or a path to a blueprint YAML file. Required. The "
            "preview's --blueprint replaces it."
        ),
    )
    target: str = Field(
        description=("docker, kubernetes, aws, gcp or azure. Required. The preview's --target replaces it.")
    )
    pools: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description=(
            'Per-pool target settings by pool name, e.g. {gpu: {host: "ssh://ops@gpu-1"}}: deep-merged over'
            " the blueprint's pools.<name>.targets.<target>, and they win. Default: none."
        ),
    )
    overrides: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Deep-merged into the blueprint before validation (a null removes a key), e.g. {services: {ui: "
            "{replicas: 2}}}. Default: none."
        ),
    )
    domain: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$",
        description=(
            "Public host name (certificates, URLs, TURN realm). Default: none (the TURN realm is "
            "<stack>.gpu-platform.local)."
        ),
    )
    cors_origins: list[str] | None = Field(
        default=None,
        description="Origins allowed cross-origin in staging and prod (the dev profile allows *). Default: none.",
    )
    tls: TlsSettings | None = Field(
        default=None,
        description=(
            "{certificate, private_key}: PEM for CA-issued TLS on Docker (the prod profile); Kubernetes uses "
            "kubernetes.cluster_issuer, AWS aws.certificate_arn. Default: none."
        ),
    )
    docker: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Target-wide Docker settings (the gpu-platform:docker table). Default: none (each setting's default)."
        ),
    )
    kubernetes: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Target-wide Kubernetes settings (the gpu-platform:kubernetes table). Default: none (each "
            "setting's default)."
        ),
    )
    aws: dict[str, Any] = Field(
        default_factory=dict,
        description="Target-wide AWS settings (the gpu-platform:aws table). Default: none (each setting's default).",
    )
    gcp: dict[str, Any] = Field(
        default_factory=dict,
        description="Target-wide GCP settings (the gpu-platform:gcp table). Default: none (each setting's default).",
    )
    azure: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "Target-wide Azure settings (the gpu-platform:azure table). Default: none (each setting's default)."
        ),
    )

    @field_validator("target")
    @classmethod
    def _known_target(cls, value: str) -> str:
        if value not in TARGETS:
            raise ValueError(f"allowed targets: {', '.join(TARGETS)}")
        return value
