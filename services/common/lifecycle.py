"""A record's lifecycle as a small state machine: each action leads from some states to one,
with the event it causes. An activity's (kegiatan) and an aid program's (bantuan) are two.

Framework-free core: imported by domain rules."""
from dataclasses import dataclass

from services.common.errors import Conflict


@dataclass(frozen=True)
class Step:
    allowed_from: tuple   # the states the action may start from
    target: str           # the state it leads to
    event: str            # the event it causes
    label: str            # the action in a sentence: 'Kegiatan ... tidak dapat <label>.'


@dataclass(frozen=True)
class Lifecycle:
    entity: str           # 'Kegiatan', 'Program': how people name the record
    status_field: str     # the member a refusal names the current state in
    steps: dict           # action -> Step

    def next(self, current, action):
        """The step `action` takes from `current`; a 409 for any other transition."""
        step = self.steps[action]
        if current not in step.allowed_from:
            raise Conflict(f"{self.entity} berstatus '{current}' tidak dapat {step.label}.",
                           code="transisi_tidak_sah", **{self.status_field: current})
        return step
