"""Names shared by the file delivery (``containers.py``) and its readers (``render.py``, tests); SDK-free.

See ``containers.py`` for why files reach a container through a never-started carrier
and read-only volumes instead of uploads into the container itself.
"""

from __future__ import annotations

# Where a container's non-secret files (``ContainerSpec.files``) are delivered.
CONFIG_DIR = "/run/config"
# Label on a carrier and its volumes: the name of the container whose files they hold.
CARRIER_LABEL = "gpu-platform.files-for"
# Label on a workload: the id of its carrier, so new files replace the workload.
FILES_LABEL = "gpu-platform.files"
SECRET_MODE = "0400"
CONFIG_MODE = "0440"
