"""Resources whose fields are moviefaces settings (moviefaces_dag/settings.py): their defaults
come from the environment or the settings file, and any value, also one given as Dagster
config, is checked with the same one-line message."""

from __future__ import annotations

from typing import Any, ClassVar

from dagster import ConfigurableResource
from pydantic import Field, ValidationInfo, field_validator

from ...core.settings import SETTINGS, value


def setting_field(key: str) -> Any:
    setting = SETTINGS[key]
    return Field(default_factory=lambda: value(key),
                 description=f"{setting.help[:1].upper()}{setting.help[1:]} "
                             f"(env {setting.env}).")


class SettingsResource(ConfigurableResource):
    section: ClassVar[str]  # the settings' section: resource key in the definitions

    @field_validator("*")
    @classmethod
    def _allowed(cls, field_value: Any, info: ValidationInfo) -> Any:
        setting = SETTINGS.get(f"{cls.section}.{info.field_name}")
        if setting is None:
            return field_value
        return setting.validate(field_value, f"{setting.key} (Dagster config)")
