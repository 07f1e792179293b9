"""The display agent for LED boards and boxes without a browser (`python -m display.agent`)."""

from display.agent.client import DisplayAgent, TokenRefused
from display.agent.drivers import DRIVERS, Driver, SerialDriver, StdoutDriver
from display.agent.state import Outcome, QueueState

__all__ = ["DRIVERS", "DisplayAgent", "Driver", "Outcome", "QueueState", "SerialDriver", "StdoutDriver", "TokenRefused"]
