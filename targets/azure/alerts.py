"""Azure Monitor metric alerts where the profile alerts (prod), to the stack's action group.

The AWS target's alarms, on Azure's metric names (azure-monitor/reference/supported-metrics):
Container Apps ``CpuPercentage`` and ``MemoryPercentage`` (of the replica's allocation) and ``RestartCount``;
PostgreSQL flexible server ``cpu_percent`` and ``storage_percent``; Front Door (``Microsoft.Cdn/profiles``)
``Percentage5XX``. One static-threshold criterion per rule, evaluated every minute over five.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_azure_native.monitor as monitor

from targets.azure.foundation import Foundation


@dataclass(frozen=True)
class Alert:
    """What to watch on one resource: metric, threshold, aggregation."""

    metric: str
    threshold: float
    aggregation: str = "Average"


APP_ALERTS = (Alert("CpuPercentage", 85), Alert("MemoryPercentage", 85), Alert("RestartCount", 3, "Total"))
DATABASE_ALERTS = (Alert("cpu_percent", 80), Alert("storage_percent", 85))
EDGE_ALERTS = (Alert("Percentage5XX", 5),)


def watch(name: str, resource_id: pulumi.Input[str], alerts: tuple[Alert, ...], f: Foundation, group: str) -> None:
    """One metric alert per entry on ``resource_id``, notifying the action group ``group``."""
    for alert in alerts:
        # Args classes, not dicts: ``criteria`` is a union of three shapes, and the SDK camel-cases a dict's keys
        # only when it knows the type (a dict reached the engine with ``all_of``; tests check every key).
        criterion = monitor.MetricCriteriaArgs(
            criterion_type="StaticThresholdCriterion",
            name=alert.metric,
            metric_name=alert.metric,
            operator="GreaterThan",
            threshold=alert.threshold,
            time_aggregation=alert.aggregation,
        )
        monitor.MetricAlert(
            f"{name}-{alert.metric.lower().replace('_', '-')}-alert",
            resource_group_name=f.group.name,
            rule_name=f"{name}-{alert.metric}",
            location="global",
            severity=2,
            enabled=True,
            scopes=[resource_id],
            evaluation_frequency="PT1M",
            window_size="PT5M",
            criteria=monitor.MetricAlertSingleResourceMultipleMetricCriteriaArgs(
                odata_type="Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", all_of=[criterion]
            ),
            actions=[{"action_group_id": group}],
            tags=f.tags,
            opts=f.opts(f),
        )
