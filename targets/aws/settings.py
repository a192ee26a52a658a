"""Settings the AWS target accepts (validated by ``stacks/``; no provider SDK here).

Target settings come from ``gpu-platform:aws``; pool settings from a blueprint's
``pools.<name>.targets.aws`` merged with ``gpu-platform:pools.<name>``.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from targets.networks import private_ipv4_network

if TYPE_CHECKING:
    from stacks.profiles import Profile

ARN = r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$"
INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\d[a-z0-9-]*\.[a-z0-9]+$"
CRON = r"^(\S+\s+){4}\S+$"

# Instance types a pool may name: family -> sizes (EC2's published sizes; no SDK call). A name outside this
# table is a typo until someone adds the family here.
_SIZES_7I = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")
_SIZES_6TH = (*_SIZES_7I[:8], "32xlarge", "metal")
_SIZES_GRAVITON = ("medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal")
_SIZES_G = ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge")
_SIZES_T = ("nano", "micro", "small", "medium", "large", "xlarge", "2xlarge")
INSTANCE_FAMILIES: dict[str, tuple[str, ...]] = {
    # GPU (NVIDIA): T4, A10G, T4G, L4, L40S, V100, A100, H100/H200
    "g4dn": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal"),
    "g5": _SIZES_G,
    "g5g": ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge", "metal"),
    "g6": _SIZES_G,
    "g6e": _SIZES_G,
    "p3": ("2xlarge", "8xlarge", "16xlarge"),
    "p3dn": ("24xlarge",),
    "p4d": ("24xlarge",),
    "p4de": ("24xlarge",),
    "p5": ("4xlarge", "48xlarge"),
    "p5e": ("48xlarge",),
    "p5en": ("48xlarge",),
    # general purpose, compute, memory (x86 and Graviton), burstable
    "m5": (*_SIZES_6TH[:8], "metal"),
    "m6i": _SIZES_6TH,
    "m7i": (*_SIZES_7I, "metal-24xl", "metal-48xl"),
    "m6g": _SIZES_GRAVITON,
    "m7g": _SIZES_GRAVITON,
    "c5": ("large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge", "metal"),
    "c6i": _SIZES_6TH,
    "c7i": (*_SIZES_7I, "metal-24xl", "metal-48xl"),
    "c6g": _SIZES_GRAVITON,
    "c7g": _SIZES_GRAVITON,
    "r5": (*_SIZES_6TH[:8], "metal"),
    "r6i": _SIZES_6TH,
    "r7i": (*_SIZES_7I, "metal-24xl", "metal-48xl"),
    "r6g": _SIZES_GRAVITON,
    "r7g": _SIZES_GRAVITON,
    "t3": _SIZES_T,
    "t3a": _SIZES_T,
    "t4g": _SIZES_T,
}
# Graviton (arm64) GPU families: the ECS GPU-optimized AMI (targets/aws/gpu.py:GPU_AMI_PARAMETER) is x86_64 only.
ARM64_GPU_FAMILIES = frozenset({"g5g"})
INSTANCE_TYPES = frozenset(f"{family}.{size}" for family, sizes in INSTANCE_FAMILIES.items() for size in sizes)


def _known_instance_type(value: str) -> str:
    """Reject a typo (``g5.2xlarg``) before any resource, naming the nearest valid types."""
    if value in INSTANCE_TYPES:
        return value
    nearest = difflib.get_close_matches(value, sorted(INSTANCE_TYPES), n=3, cutoff=0.5)
    family = value.partition(".")[0]
    if not nearest and family in INSTANCE_FAMILIES:
        nearest = [f"{family}.{size}" for size in INSTANCE_FAMILIES[family][:3]]
    hint = f"did you mean {', '.join(nearest)}?" if nearest else "see targets/aws/settings.py:INSTANCE_FAMILIES"
    raise ValueError(f"not a known EC2 instance type: {hint}")


@functools.cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")


def app_autoscaling_cron(unix: str) -> str:
    """A 5-field Unix cron (the Auto Scaling group's format) as Application Auto Scaling's ``cron(...)``.

    That format has six fields (a year last), needs ``?`` in day-of-month or day-of-week, and numbers the
    days 1-7 from Sunday, where Unix numbers them 0-6 (7 is Sunday too): days become names, so ``1-5``
    stays Monday to Friday.
    """
    minute, hour, dom, month, dow = unix.split()
    if dow == "*":
        dow = "?"
    else:
        dom = "?"
        dow = re.sub(r"\d+", lambda m: _DAYS[int(m.group())], dow)
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


# The VPC is cut into 2**SUBNET_SPLIT_BITS equal blocks: public subnets from the first half, private
# from the second, one each per AZ (at most 6). An ALB needs subnets of /27 or larger, so /23 is the
# smallest VPC; AWS allows VPCs from /16.
SUBNET_SPLIT_BITS = 4
VPC_PREFIXES = (16, 27 - SUBNET_SPLIT_BITS)


class ScaleSchedule(BaseModel):
    """Off-hours scale-to-zero for a GPU pool (the bem seed's auto-shutdown), in 5-field cron."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale_down: Annotated[str, Field(pattern=CRON)] = Field(
        default="0 20 * * 1-5", description="5-field cron at which the pool scales to zero. Default: 0 20 * * 1-5."
    )
    scale_up: Annotated[str, Field(pattern=CRON)] = Field(
        default="0 7 * * 1-5", description="5-field cron at which the pool scales back up. Default: 0 7 * * 1-5."
    )
    timezone: str = Field(default="UTC", description="Time zone of the crons. Default: UTC.")

    @field_validator("scale_down", "scale_up")
    @classmethod
    def _one_day_field(cls, value: str) -> str:
        """Application Auto Scaling (services) takes a day of the month or of the week, not both."""
        fields = value.split()
        if fields[2] != "*" and fields[4] != "*":
            raise ValueError("give a day of the month or a day of the week (the other '*'), not both")
        if any(int(d) > 7 for d in re.findall(r"\d+", fields[4])):
            raise ValueError("days of the week are 0-7 (0 and 7 are Sunday) or SUN-SAT")
        if "/" in fields[4]:
            raise ValueError(
                f"a step in the day of the week ({fields[4]!r}) has no Application Auto Scaling translation: "
                "list the days instead (e.g. 1,3,5)"
            )
        for low, high in re.findall(r"(\d+)-(\d+)", fields[4]):
            if int(high) == 7 or int(low) > int(high):
                raise ValueError(
                    f"the day-of-week range {low}-{high} wraps past Sunday, which Application Auto Scaling numbers "
                    "first: list the days instead (e.g. 5,6,0 for Friday to Sunday)"
                )
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        """An IANA time zone name (both Auto Scaling APIs take one); a typo would fail only at deploy."""
        zones = _timezones()
        if zones and value not in zones:  # no tz database on this machine: nothing to check against
            nearest = difflib.get_close_matches(value, sorted(zones), n=3)
            hint = f": did you mean {', '.join(nearest)}?" if nearest else " (e.g. UTC, Europe/Berlin)"
            raise ValueError(f"not a known IANA time zone{hint}")
        return value


class AwsPoolSettings(BaseModel):
    """How a pool maps onto AWS: Fargate for CPU pools, an EC2 Auto Scaling group for GPU pools."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    capacity: Literal["fargate", "ec2"] | None = Field(
        default=None,
        description=(
            "fargate or ec2 (an Auto Scaling group behind an ECS capacity provider). Default: none, ec2 when "
            "the pool has GPUs, else fargate. The stack's gpu-platform:pools.<name> overrides the blueprint's"
            " value."
        ),
    )
    instance_type: Annotated[str, Field(pattern=INSTANCE_TYPE)] = Field(
        default="g5.xlarge",
        description=(
            "EC2 instance type of an ec2 pool (a known family and size). Default: g5.xlarge. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    spot: bool = Field(
        default=False,
        description=(
            "Runs the ec2 pool on Spot instances (a mixed-instances policy). Default: false. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    spot_instance_types: list[Annotated[str, Field(pattern=INSTANCE_TYPE)]] = Field(
        default_factory=list,
        description=(
            "Instance types the Spot policy may use. Default: none, instance_type only. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    min_size: Annotated[int, Field(ge=0, le=100)] = Field(
        default=0,
        description=(
            "Fewest instances of the Auto Scaling group (0-100, at most max_size). Default: 0. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    max_size: Annotated[int, Field(ge=1, le=100)] = Field(
        default=2,
        description=(
            "Most instances of the Auto Scaling group (1-100). Default: 2. The stack's "
            "gpu-platform:pools.<name> overrides the blueprint's value."
        ),
    )
    root_volume_gib: Annotated[int, Field(ge=30, le=2000)] = Field(
        default=100,
        description=(
            "Encrypted gp3 root volume in GiB (30-2000). Default: 100. The stack's gpu-platform:pools.<name> "
            "overrides the blueprint's value."
        ),
    )
    schedule: ScaleSchedule | None = Field(
        default=None,
        description=(
            "Off-hours scale-to-zero. Default: none (always on). The stack's gpu-platform:pools.<name> "
            "overrides the blueprint's value."
        ),
    )

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        return _known_instance_type(value)

    @field_validator("spot_instance_types")
    @classmethod
    def _spot_instance_types(cls, values: list[str]) -> list[str]:
        for value in values:
            _known_instance_type(value)
        return values

    @model_validator(mode="after")
    def _sizes(self) -> AwsPoolSettings:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) must not exceed max_size ({self.max_size})")
        return self


class AwsSettings(BaseModel):
    """Region, network, certificates, alarms and sizes for the AWS target."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = Field(
        default="us-east-1", description="The AWS region. Default: us-east-1."
    )
    vpc_cidr: str = Field(
        default="10.40.0.0/16",
        description=(
            "The VPC's network: a private (RFC 1918) /16 to /23 network address; each subnet is 1/16 of it "
            "and an ALB needs /27. Default: 10.40.0.0/16."
        ),
    )
    availability_zones: Annotated[int, Field(ge=2, le=6)] = Field(
        default=2, description="Availability zones the VPC spans (2-6). Default: 2."
    )
    certificate_arn: Annotated[str, Field(pattern=ARN)] | None = Field(
        default=None,
        description=(
            "ACM certificate ARN for domain (and *.domain for public gRPC tools); required by profiles with "
            "TLS (staging, prod). Default: none."
        ),
    )
    alarm_topic_arn: Annotated[str, Field(pattern=ARN)] | None = Field(
        default=None, description="SNS topic ARN the alarms notify; required by the prod profile. Default: none."
    )
    db_instance_class: Annotated[str, Field(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")] = Field(
        default="db.t4g.medium", description="RDS instance class of every database. Default: db.t4g.medium."
    )
    # The databases' master passwords are generated by the program; raising this number generates new
    # ones on the next ``pulumi up`` (rotation), which rolls every consumer's tasks onto them.
    db_password_version: Annotated[int, Field(ge=1)] = Field(
        default=1,
        description="Raise it to rotate the databases' generated master passwords on the next pulumi up. Default: 1.",
    )
    # A container image that cannot run with a read-only root filesystem is named here, explicitly.
    writable_root: list[str] = Field(
        default_factory=list,
        description=(
            "Services allowed a writable root filesystem, by name (beside read_only_root: false in the "
            "blueprint). Default: none."
        ),
    )

    @field_validator("vpc_cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        """Checked here, before any resource: the foundation's subnets are cut from it and must hold an ALB."""
        return private_ipv4_network(
            value,
            VPC_PREFIXES,
            "10.40.0.0/16",
            f"each subnet is 1/{2**SUBNET_SPLIT_BITS} of the VPC, and an ALB needs subnets of /27 or larger",
        )


def requirements(profile: Profile, has_tls_settings: bool, settings: AwsSettings) -> list[str]:
    """TLS on AWS needs an ACM certificate; prod alarms need an SNS topic."""
    del has_tls_settings
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
