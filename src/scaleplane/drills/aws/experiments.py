"""AWS FIS for the aws drills: the drill's experiment template (created in prepare, deleted in rollback),
its CloudWatch-alarm stop condition, and starting and stopping the experiment.

Before any fault the drill reads the stop alarm itself and refuses to inject while it is in ALARM: FIS
would stop the experiment at once, and a drill must not start into an incident. The alarm is the
user's (never created or deleted here); so is the resource under test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scaleplane.drills.engine import backends

FINISHED = ("completed", "stopped", "failed")


class Experiments:
    def __init__(self, fis: Any, cloudwatch: Any, *, stop_alarm: str, role_arn: str) -> None:
        self.fis, self.cloudwatch, self.stop_alarm, self.role_arn = fis, cloudwatch, stop_alarm, role_arn
        self.template: str | None = None
        self.experiment: str | None = None

    def alarm_arn(self) -> str | None:
        alarms = self.cloudwatch.describe_alarms(AlarmNames=[self.stop_alarm])["MetricAlarms"]
        return str(alarms[0]["AlarmArn"]) if alarms else None

    def refuse_in_alarm(self) -> backends.Outcome | None:
        """A failed outcome when the stop condition already holds (no fault may be injected)."""
        alarms = self.cloudwatch.describe_alarms(AlarmNames=[self.stop_alarm])["MetricAlarms"]
        if not alarms:
            return backends.Outcome(False, f"stop-condition alarm {self.stop_alarm!r} does not exist")
        if alarms[0]["StateValue"] == "ALARM":
            return backends.Outcome(False, f"stop condition {self.stop_alarm} is in ALARM: no fault injected")
        return None

    def body(
        self,
        scenario: str,
        description: str,
        targets: dict[str, Any],
        actions: dict[str, Any],
        alarm_arn: str,
    ) -> dict[str, Any]:
        """An experiment template: `actions` on `targets`, stopped by the alarm."""
        return {
            "description": description,
            "roleArn": self.role_arn,
            "targets": targets,
            "actions": actions,
            "stopConditions": [{"source": "aws:cloudwatch:alarm", "value": alarm_arn}],
            "tags": {"scaleplane-drill": scenario},
        }

    def create(self, build: Callable[[str], dict[str, Any]]) -> backends.Outcome | None:
        """Create the template `build(alarm_arn)`; a failed outcome when the stop alarm is missing."""
        arn = self.alarm_arn()
        if arn is None:
            return backends.Outcome(False, f"stop-condition alarm {self.stop_alarm!r} does not exist")
        self.template = self.fis.create_experiment_template(**build(arn))["experimentTemplate"]["id"]
        return None

    def start(self) -> str:
        self.experiment = self.fis.start_experiment(experimentTemplateId=self.template)["experiment"]["id"]
        return self.experiment

    def status_if_started(self) -> str | None:
        status = str(self.fis.get_experiment(id=self.experiment)["experiment"]["state"]["status"])
        return status if status not in ("pending", "initiating") else None

    def clean_up(self) -> str:
        """Stop a running experiment and delete the template: what rollback always does."""
        if self.experiment is not None:
            status = self.fis.get_experiment(id=self.experiment)["experiment"]["state"]["status"]
            if status not in FINISHED:
                self.fis.stop_experiment(id=self.experiment)
        if self.template is None:
            return "no experiment template was created"
        self.fis.delete_experiment_template(id=self.template)
        return f"experiment template {self.template} deleted"
