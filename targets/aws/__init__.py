"""The AWS target: ECS on Fargate and on G5 capacity, an ALB for HTTP/WebSocket/gRPC, RDS PostgreSQL.

Only ``target.py`` and what it imports load pulumi_aws; ``settings.py``, ``checks.py``,
``mocks.py`` and ``render.py`` are SDK-free so the stack loader and the preview can use them.
``PLUGIN`` is the target's whole contract with the rest of the program (``targets/contract.py``).
"""

from __future__ import annotations

from targets.aws import checks, mocks, settings
from targets.contract import StatefulType, TargetPlugin, lazy_cost, lazy_load, lazy_render, no_gpu_devices

PLUGIN = TargetPlugin(
    name="aws",
    providers=("aws",),
    target_settings=settings.TARGET_SETTINGS,
    pool_settings=settings.POOL_SETTINGS,
    requirements=settings.requirements,
    check=checks.check,
    caveats=checks.caveats,
    load=lazy_load(__name__),
    render=lazy_render(__name__),
    gpu_devices=no_gpu_devices,
    reservation_text=checks.reservation_text,
    mock_outputs=mocks.resource_outputs,
    cost=lazy_cost(__name__),
    mock_call=mocks.call,
    # ForceNew in terraform-provider-aws, which pulumi-aws wraps.
    stateful_types={
        # aws_db_instance. Not dbSubnetGroupName: the provider moves an instance between subnet groups in place.
        "aws:rds/instance:Instance": StatefulType(
            (
                "identifier",
                "identifierPrefix",
                "engine",
                "dbName",
                "username",
                "storageEncrypted",
                "kmsKeyId",
                "availabilityZone",
                "characterSetName",
                "ncharCharacterSetName",
                "timezone",
                "snapshotIdentifier",
                "restoreToPointInTime",
                "s3Import",
                "customIamInstanceProfile",
            )
        ),
        # aws_rds_cluster (here dbSubnetGroupName does force a new cluster).
        "aws:rds/cluster:Cluster": StatefulType(
            (
                "clusterIdentifier",
                "clusterIdentifierPrefix",
                "engine",
                "engineMode",
                "databaseName",
                "masterUsername",
                "storageEncrypted",
                "kmsKeyId",
                "availabilityZones",
                "dbSubnetGroupName",
                "restoreToPointInTime",
                "s3Import",
                "sourceRegion",
            )
        ),
        "aws:efs/fileSystem:FileSystem": StatefulType(
            ("availabilityZoneName", "creationToken", "encrypted", "kmsKeyId", "performanceMode")
        ),
        "aws:ebs/volume:Volume": StatefulType(
            ("availabilityZone", "encrypted", "kmsKeyId", "multiAttachEnabled", "outpostArn", "snapshotId")
        ),
    },
    entry_hints={"aws:lb/loadBalancer:LoadBalancer": "load balancer", "aws:wafv2/webAcl:WebAcl": "WAF"},
)
