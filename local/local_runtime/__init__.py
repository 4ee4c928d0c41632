"""Runs bcsync's handlers the way AWS would, on this machine: moto on 127.0.0.1 + the template.

Never deployed. Tests, `make demo`, `make fault` and `make bench` use it.
"""

from .deployment import LocalDeployment
from .invoke import InvocationCut, LambdaContext
from .sqs import DeliveryReport
from .template import expanded_template

__all__ = ["DeliveryReport", "InvocationCut", "LambdaContext", "LocalDeployment", "expanded_template"]
