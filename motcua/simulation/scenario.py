"""Scenario files (TOML): the office, the days, the counters' hours, pauses and each field's
arrivals, service times, priority and no-show shares. Errors name the key and the problem."""

from __future__ import annotations

import math
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from motcua.config import Config, ConfigError, load_config, parse_span

HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


def _span(text: str) -> str:
    parse_span(text)  # its ValueError names the span and the problem
    return text


Span = Annotated[str, AfterValidator(_span)]
# The normal quantile of 0.9: a log-normal's p90 is median × exp(1.2816 σ).
Z90 = 1.2815515655446004


class ScenarioError(Exception):
    """A scenario that cannot run, with every problem as `key: problem` (Vietnamese / English)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PauseSpec(_Strict):
    counter: int = Field(ge=1)
    at: HHMM
    minutes: float = Field(gt=0, le=8 * 60)

    @property
    def at_time(self) -> time:
        return time.fromisoformat(self.at)


class FieldSpec(_Strict):
    service: str = Field(min_length=1)
    arrivals_per_hour: dict[str, float]
    service_median_min: float = Field(gt=0)
    service_p90_min: float = Field(gt=0)
    priority_share: float = Field(default=0.0, ge=0, le=1)
    no_show_share: float = Field(default=0.0, ge=0, lt=1)
    transfer_share: float = Field(default=0.0, ge=0, lt=1)  # of those served, sent on to `transfer_to`
    transfer_to: str | None = None

    @field_validator("arrivals_per_hour")
    @classmethod
    def _hours(cls, v: dict[str, float]) -> dict[str, float]:
        for hour, rate in v.items():
            if not (len(hour) == 2 and hour.isdigit() and int(hour) < 24):
                raise ValueError(f"giờ '{hour}' phải là 00–23 / hour '{hour}' must be 00–23")
            if not (rate >= 0 and math.isfinite(rate)):
                raise ValueError(f"giờ {hour}: số người mỗi giờ phải ≥ 0 / hour {hour}: the rate must be ≥ 0")
        return v

    @model_validator(mode="after")
    def _spread(self) -> FieldSpec:
        if self.service_p90_min <= self.service_median_min:
            raise ValueError("service_p90_min phải lớn hơn service_median_min / service_p90_min must exceed service_median_min")
        if self.transfer_share > 0 and not self.transfer_to:
            raise ValueError("transfer_share cần transfer_to / transfer_share needs transfer_to")
        return self

    @property
    def mu(self) -> float:
        return math.log(self.service_median_min * 60)

    @property
    def sigma(self) -> float:
        return math.log(self.service_p90_min / self.service_median_min) / Z90


class Scenario(_Strict):
    config: str = "config.toml"
    office: str = Field(min_length=1)
    date: date
    days: int = Field(default=1, ge=1, le=366)
    seed: int = 0
    counters: dict[int, list[Span]] = Field(min_length=1)
    pauses: list[PauseSpec] = Field(default_factory=list)
    fields: list[FieldSpec] = Field(min_length=1)


def _format(path: Path, exc: ValidationError) -> str:
    lines = [f"Kịch bản {path} không hợp lệ / invalid scenario:"]
    for err in exc.errors():
        key = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in err["loc"]).replace(".[", "[")
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"  - {key or '(tệp / file)'}: {msg}")
    return "\n".join(lines)


def _check_references(sc: Scenario, config: Config, path: Path) -> None:
    """Names the scenario uses must exist in the office's configuration."""
    office = next((o for o in config.offices if o.code == sc.office), None)
    if office is None:
        raise ScenarioError(f"{path}: office: không có đơn vị '{sc.office}' trong {sc.config} / no office '{sc.office}' in {sc.config}")
    numbers = {c.number for c in office.counters}
    codes = {f.code for f in office.fields}
    problems = [f"counters.{n}: không có quầy {n} / no counter {n}" for n in sc.counters if n not in numbers]
    problems += [f"pauses[{i}].counter: quầy {p.counter} không mở trong kịch bản / counter {p.counter} is not in [counters]"
                 for i, p in enumerate(sc.pauses) if p.counter not in sc.counters]
    seen: set[str] = set()
    for i, f in enumerate(sc.fields):
        if f.service not in codes:
            problems.append(f"fields[{i}].service: không có lĩnh vực '{f.service}' / no field '{f.service}'")
        if f.service in seen:
            problems.append(f"fields[{i}].service: '{f.service}' bị trùng / duplicate '{f.service}'")
        seen.add(f.service)
        if f.transfer_to and f.transfer_to not in codes:
            problems.append(f"fields[{i}].transfer_to: không có lĩnh vực '{f.transfer_to}' / no field '{f.transfer_to}'")
    if problems:
        raise ScenarioError("\n".join([f"Kịch bản {path} không hợp lệ / invalid scenario:"] + [f"  - {p}" for p in problems]))


def parse_scenario(text: str, path: Path) -> tuple[Scenario, Config, Path]:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"Kịch bản {path} sai cú pháp TOML / invalid TOML: {exc}") from None
    try:
        sc = Scenario.model_validate(raw)
    except ValidationError as exc:
        raise ScenarioError(_format(path, exc)) from None
    config_path = (path.parent / sc.config).resolve()
    try:
        config, _ = load_config(config_path)
    except ConfigError as exc:
        raise ScenarioError(f"{path}: config: {exc}") from None
    _check_references(sc, config, path)
    return sc, config, config_path


def load_scenario(path: str | Path) -> tuple[Scenario, Config, Path]:
    """The scenario, the configuration it names and that configuration's path."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"Không đọc được kịch bản / cannot read scenario {path}: {exc.strerror}") from None
    return parse_scenario(text, path)
