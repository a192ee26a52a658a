"""Prod alarms: the load balancer's 5xx and unhealthy targets, ECS CPU and memory, RDS CPU and storage.

They notify the SNS topic named in ``gpu-platform:aws.alarm_topic_arn``.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from targets.aws.foundation import Foundation


def alarm(
    name: str,
    namespace: str,
    metric: str,
    dimensions: Mapping[str, pulumi.Input[str]],
    threshold: float,
    topic: str,
    foundation: Foundation,
    comparison: str = "GreaterThanThreshold",
    statistic: str = "Average",
    periods: int = 3,
) -> aws.cloudwatch.MetricAlarm:
    return aws.cloudwatch.MetricAlarm(
        f"{name}-alarm",
        alarm_description=f"gpu-platform {foundation.stack}: {name}",
        namespace=namespace,
        metric_name=metric,
        dimensions=dimensions,
        statistic=statistic,
        period=60,
        evaluation_periods=periods,
        threshold=threshold,
        comparison_operator=comparison,
        treat_missing_data="notBreaching",
        alarm_actions=[topic],
        ok_actions=[topic],
        opts=foundation.opts(foundation),
    )
