"""Local stand-in for the Hotmart, Kommo and Gestão Click APIs plus a webhook sender."""

from .app import create_app
from .config import EmulatorConfig, env_lines, env_vars

__all__ = ["EmulatorConfig", "create_app", "env_lines", "env_vars"]
