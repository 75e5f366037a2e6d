"""A local WeCom: the server side of the API, and a member's device that posts callbacks."""

from bot.emulator.app import create_emulator_app
from bot.emulator.clock import ManualClock
from bot.emulator.device import WeComDevice
from bot.emulator.server import (
    EmulatorInspector,
    RunningServer,
    start_app_in_thread,
    start_emulator_in_thread,
)
from bot.emulator.state import EmulatorConfig

__all__ = [
    "EmulatorConfig",
    "EmulatorInspector",
    "ManualClock",
    "RunningServer",
    "WeComDevice",
    "create_emulator_app",
    "start_app_in_thread",
    "start_emulator_in_thread",
]
