"""Settings the AWS target accepts (validated by ``stacks/``; no provider SDK here).

Target settings come from ``gpu-platform:aws``; pool settings from a blueprint's
``pools.<name>.targets.aws`` merged with ``gpu-platform:pools.<name>``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ARN = r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$"
INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$"
CRON = r"^(\S+\s+){4}\S+$"


class ScaleSchedule(BaseModel):
    """Off-hours scale-to-zero for a GPU pool (the bem seed's auto-shutdown), in 5-field cron."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale_down: Annotated[str, Field(pattern=CRON)] = "0 20 * * 1-5"
    scale_up: Annotated[str, Field(pattern=CRON)] = "0 7 * * 1-5"
    timezone: str = "UTC"


class AwsPoolSettings(BaseModel):
    """How a pool maps onto AWS: Fargate for CPU pools, an EC2 Auto Scaling group for GPU pools."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capacity: Literal["fargate", "ec2"] | None = None  # default: ec2 when the pool has GPUs, else fargate
    instance_type: Annotated[str, Field(pattern=INSTANCE_TYPE)] = "g5.xlarge"
    spot: bool = False
    spot_instance_types: list[Annotated[str, Field(pattern=INSTANCE_TYPE)]] = Field(default_factory=list)
    min_size: Annotated[int, Field(ge=0, le=100)] = 0
    max_size: Annotated[int, Field(ge=1, le=100)] = 2
    root_volume_gib: Annotated[int, Field(ge=30, le=2000)] = 100
    schedule: ScaleSchedule | None = None

    @model_validator(mode="after")
    def _sizes(self) -> AwsPoolSettings:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) must not exceed max_size ({self.max_size})")
        return self


class AwsSettings(BaseModel):
    """Region, network, certificates, alarms and sizes for the AWS target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = "us-east-1"
    vpc_cidr: str = "10.40.0.0/16"
    availability_zones: Annotated[int, Field(ge=2, le=6)] = 2
    certificate_arn: Annotated[str, Field(pattern=ARN)] | None = None
    alarm_topic_arn: Annotated[str, Field(pattern=ARN)] | None = None
    db_instance_class: Annotated[str, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")] = "db.t4g.medium"
    # A container image that cannot run with a read-only root filesystem is named here, explicitly.
    writable_root: list[str] = Field(default_factory=list)

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        if not re.fullmatch(r"(\d{1,3}\.){3}\d{1,3}/(1[6-9]|2[0-4])", value):
            raise ValueError("an IPv4 CIDR from /16 to /24, e.g. 10.40.0.0/16")
        return value


def requirements(profile: Any, has_tls_settings: bool, settings: BaseModel) -> list[str]:
    """TLS on AWS needs an ACM certificate; prod alarms need an SNS topic."""
    del has_tls_settings
    assert isinstance(settings, AwsSettings)
    needs = []
    if profile.tls != "off" and not settings.certificate_arn:
        needs.append(
            "gpu-platform:aws.certificate_arn|the profile serves TLS: give the ACM certificate ARN for the "
            "domain (arn:aws:acm:<region>:<account>:certificate/<id>)"
        )
    if profile.monitoring == "alerting" and not settings.alarm_topic_arn:
        needs.append(
            "gpu-platform:aws.alarm_topic_arn|prod raises alarms: give the SNS topic ARN they notify "
            "(arn:aws:sns:<region>:<account>:<topic>)"
        )
    return needs


TARGET_SETTINGS = AwsSettings
POOL_SETTINGS = AwsPoolSettings
