"""Runs bcsync's handlers the way AWS would, on this machine: moto on 127.0.0.1 + the template.

Never deployed. Tests, `make demo`, `make fault` and `make bench` use it.
"""

from .runtime import (
    DeliveryReport,
    InvocationCut,
    LambdaContext,
    LocalDeployment,
    expanded_template,
)

__all__ = ["DeliveryReport", "InvocationCut", "LambdaContext", "LocalDeployment", "expanded_template"]
