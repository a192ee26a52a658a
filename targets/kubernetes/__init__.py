"""The Kubernetes target: any cluster, Gateway API routing, GPU scheduling through the NVIDIA device plugin.

Only ``target.py`` and the modules it imports load pulumi_kubernetes;
``settings.py`` and ``render.py`` are SDK-free.
"""
