"""Offline monthly cost estimates (``python -m preview STACK --cost``): docs/cost.md.

Targets price their own resources (``TargetPlugin.cost``, ``targets/<t>/cost.py`` with a dated
``prices.yaml``); this package holds what every target shares: the line model and context
(:mod:`.model`), the usage file (:mod:`.usage`), price tables (:mod:`.prices`), schedules
(:mod:`.schedule`), the estimate (:mod:`.estimate`) and its renderings (:mod:`.render`,
:mod:`.infracost`).
"""
