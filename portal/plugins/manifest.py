"""The StandardPlugin manifest (plugin.yaml) as types, so the CLI, GUI and server agree on it."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from portal.i18n import _
from portal.plugins.safezip import entry_name_problem

API_VERSION = "AIC-Platform.io/v1"
KIND = "StandardPlugin"
MANIFEST_NAME = "plugin.yaml"
SCHEMA_ID = "https://aic-platform.io/schemas/standardplugin-v1.json"

DNS_LABEL = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class PluginType(StrEnum):
    """What the plugin adds to the platform."""

    MODEL = "model"
    CONNECTOR = "connector"
    PIPELINE_STEP = "pipeline-step"
    HARDWARE_BACKEND = "hardware-backend"


class Runtime(StrEnum):
    """The interpreter the platform runs the entry point with."""

    PYTHON_3_11 = "python3.11"
    PYTHON_3_12 = "python3.12"
    PYTHON_3_13 = "python3.13"


class Backend(StrEnum):
    """Compute backends a plugin runs on (or, for a hardware backend, provides)."""

    CUDA = "cuda"
    TPU = "tpu"
    CPU = "cpu"
    QISKIT = "qiskit"
    LOIHI = "loihi"


class Permission(StrEnum):
    """What the plugin asks the platform to allow at run time."""

    NETWORK_OUTBOUND = "network.outbound"
    STORAGE_READ = "storage.read"
    STORAGE_WRITE = "storage.write"
    SECRETS_READ = "secrets.read"
    HARDWARE_DIRECT = "hardware.direct"
    TELEMETRY = "telemetry"


class PricingModel(StrEnum):
    """How partners charge for the plugin."""

    FREE = "free"
    SUBSCRIPTION = "subscription"
    USAGE = "usage"


def _relative_path(value: str) -> str:
    problem = entry_name_problem(value)
    if problem:
        raise ValueError(
            _("must be a path inside the plugin folder: {problem}").format(problem=problem)
        )
    return value


def _entry_point(value: str) -> str:
    _relative_path(value.partition(":")[0])
    return value


def _unique(values: list[Any]) -> list[Any]:
    for index, value in enumerate(values):
        if value in values[:index]:
            raise ValueError(_("lists {item} twice").format(item=value))
    return values


RelativePath = Annotated[str, AfterValidator(_relative_path)]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Metadata(_Model):
    """Who and what the plugin is, as the marketplace lists it."""

    name: Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
    version: Annotated[str, Field(pattern=SEMVER, max_length=64)]  # what the marketplace keeps
    display_name: Annotated[str, Field(min_length=1, max_length=80)]
    description: Annotated[str, Field(min_length=1, max_length=2000)]
    publisher: Annotated[str, Field(min_length=1, max_length=100)]
    license: Annotated[str, Field(pattern=r"^[A-Za-z0-9.+() -]+$", max_length=200)] | None = None
    tags: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]],
        Field(max_length=20),
        AfterValidator(_unique),
    ] = []
    icon: RelativePath | None = None


class Hardware(_Model):
    """What the plugin needs from the machine it runs on."""

    backends: Annotated[list[Backend], Field(min_length=1), AfterValidator(_unique)]
    min_memory_mib: int | None = Field(default=None, alias="minMemoryMiB", ge=0)


class Pricing(_Model):
    """What the plugin costs; free plugins carry no price."""

    model: PricingModel
    price: Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=4)] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    unit: Annotated[str, Field(min_length=1, max_length=40)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.model is PricingModel.FREE and self.price:
            raise ValueError(_("a free plugin has no price"))
        if self.model is not PricingModel.FREE and (self.price is None or not self.currency):
            raise ValueError(_("a paid plugin needs a price and a currency"))
        if self.model is PricingModel.USAGE and not self.unit:
            raise ValueError(_("usage pricing needs the unit it charges for, such as request"))
        return self


class Spec(_Model):
    """How the platform runs the plugin and where it may be offered."""

    type: PluginType
    endpoint: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/{}-]*$", max_length=200)]
    runtime: Runtime
    entry_point: Annotated[
        str,
        Field(pattern=r"^[^:\s]+(:[A-Za-z_][A-Za-z0-9_]*)?$", max_length=300),
        AfterValidator(_entry_point),
    ]
    hardware: Hardware
    regions: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z]+(-[a-z]+)+[0-9]+$")]],
        Field(min_length=1),
        AfterValidator(_unique),
    ]
    languages: Annotated[
        list[Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]],
        Field(min_length=1),
        AfterValidator(_unique),
    ]
    permissions: Annotated[list[Permission], AfterValidator(_unique)] = []
    pricing: Pricing


class StandardPlugin(_Model):
    """A plugin manifest, `apiVersion: AIC-Platform.io/v1`, `kind: StandardPlugin`."""

    api_version: Literal["AIC-Platform.io/v1"]
    kind: Literal["StandardPlugin"]
    metadata: Metadata
    spec: Spec

    @property
    def package_name(self) -> str:
        """The file name a package of this manifest gets: NAME-VERSION.aicpkg."""
        return f"{self.metadata.name}-{self.metadata.version}.aicpkg"

    def as_json(self) -> dict[str, Any]:
        """The manifest as plain JSON data, as signed statements carry it."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def json_schema() -> dict[str, Any]:
    """The manifest's JSON Schema, for editors that validate plugin.yaml as it is typed."""
    schema = StandardPlugin.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }
