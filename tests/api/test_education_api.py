"""Education over HTTP: activities, amendments and trainings as the contract says, bad input
named in a 422, a regulator refused the records but given the figures (JSON, CSV, XLSX)."""

from __future__ import annotations

import io
from typing import Any
from uuid import uuid4

import pytest
from openpyxl import load_workbook

from api import education_models as em
from api import read_models as m
from tests.api.conftest import Api, bearer
from tests.api.test_auth_matrix import ACTIVITY, TRAINING


def post(api: Api, path: str, body: dict[str, Any], who: str = "educator", **headers: str) -> Any:
    return api.client.post(path, json=body, headers={**bearer(who), **headers})


def test_an_activity_is_recorded_amended_and_read_with_its_history(api: Api) -> None:
    created = post(api, "/v1/education/activities", ACTIVITY)
    assert created.status_code == 201, created.text
    activity = created.json()
    assert (activity["participants"], activity["one_old_one_young"]) == (80, True)
    path = f"/v1/education/activities/{activity['id']}"
    read = api.get(path, "supervisor")
    assert read.headers["ETag"] == '"1"'
    amended = post(
        api, f"{path}/amend", {"reason": "签到表复核", "participants": 96}, **{"If-Match": '"1"'}
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["participants"] == 96
    stale = post(api, f"{path}/amend", {"reason": "again", "views": 5}, **{"If-Match": '"1"'})
    assert stale.status_code == 412
    events = api.get(f"{path}/history", "auditor").json()["events"]
    assert [(e["type"], e["version"]) for e in events] == [("Recorded", 1), ("FiguresAmended", 2)]
    assert events[0]["data"]["participants"] == 80
    assert events[1]["data"]["figures"]["participants"] == 96
    assert api.get(path, "auditor", as_of_version=1).json()["participants"] == 80
    assert api.get(f"/v1/education/activities/{uuid4()}", "supervisor").status_code == 404
    unknown = post(api, f"/v1/education/activities/{uuid4()}/amend", {"reason": "r", "views": 1})
    assert unknown.status_code == 409
    listed = api.get("/v1/education/activities", "supervisor").json()
    assert [i["id"] for i in listed["items"]] == [activity["id"]]
    # The bodies are exactly what /openapi.json describes.
    em.ActivityPage.model_validate(listed)
    em.Activity.model_validate(api.get(path, "auditor").json())
    m.History.model_validate({"events": events})
    training = post(api, "/v1/education/trainings", {**TRAINING, "scores": {"Handler": "91.5"}})
    assert training.status_code == 201, training.text
    read = api.get(f"/v1/education/trainings/{training.json()['id']}", "auditor").json()
    assert em.Training.model_validate(read).scores == {"Handler": "91.5"}
    em.TrainingPage.model_validate(api.get("/v1/education/trainings", "supervisor").json())


def test_a_replayed_activity_answers_the_first_response(api: Api) -> None:
    first = post(api, "/v1/education/activities", ACTIVITY, **{"Idempotency-Key": "a-1"})
    count = api.count()
    again = post(api, "/v1/education/activities", ACTIVITY, **{"Idempotency-Key": "a-1"})
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert api.count() == count
    other = post(
        api, "/v1/education/activities", {**ACTIVITY, "views": 3}, **{"Idempotency-Key": "a-1"}
    )
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"participants": -1}, "participants"),
        ({"views": -10}, "views"),
        ({"ended_at": "2026-03-15T08:00:00+08:00"}, "ended_at"),
        ({"audiences": ["elderly", "aliens"]}, "audiences[1]"),
        ({"channel": "tiktok"}, "channel"),
        ({"kind": "hybrid"}, "kind"),
        ({"campaign": "singles_day"}, "campaign"),
        ({"region": "3301"}, "region"),
    ],
)
def test_bad_activity_input_is_a_422_naming_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    count = api.count()
    refused = post(api, "/v1/education/activities", {**ACTIVITY, **change})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in refused.json()["errors"]]
    assert api.count() == count


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours": "-2"}, "hours"),
        ({"hours": "0"}, "hours"),
        ({"attendees": []}, "attendees"),
        ({"scores": {"Stranger": "80"}}, "scores.Stranger"),
    ],
)
def test_bad_training_input_is_a_422_naming_the_field(
    api: Api, change: dict[str, Any], field: str
) -> None:
    refused = post(api, "/v1/education/trainings", {**TRAINING, **change})
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]]


def test_a_regulator_gets_the_figures_but_neither_posts_nor_reads_records(api: Api) -> None:
    assert post(api, "/v1/education/activities", ACTIVITY, "regulator").status_code == 403
    assert post(api, "/v1/education/trainings", TRAINING, "regulator").status_code == 403
    assert api.get("/v1/education/activities", "regulator").status_code == 403
    post(api, "/v1/education/activities", ACTIVITY)
    post(api, "/v1/education/activities", {**ACTIVITY, "audiences": ["rural", "general"]})
    post(api, "/v1/education/trainings", TRAINING)
    position = api.count()
    body = api.get(
        "/v1/stats/education",
        "regulator",
        period="2026-03",
        by="channel,audience",
        position=position,
        wait=5,
    ).json()
    em.EducationStatistics.model_validate(body)
    assert body["caught_up"] is True
    assert body["position"] >= position
    totals = body["totals"]
    assert (totals["activities"], totals["participants"], totals["views"]) == (2, 160, 0)
    assert totals["one_old_one_young_share"] == "0.5000"
    assert (totals["training_sessions"], totals["training_hours"]) == (1, "2.00")
    # Handler, of the five staff (Handler, Supervisor, Educator, Compliance, Report Officer;
    # not the auditor, the admin or a department's contact).
    assert (totals["staff"], totals["trained_staff"], totals["coverage"]) == (5, 1, "0.2000")
    assert [g["key"]["audience"] for g in body["groups"]] == ["elderly", "general", "rural"]
    csv = api.get(
        "/v1/stats/education", "regulator", period="2026-03", by="channel,audience", format="csv"
    )
    assert csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert "宣教活动场次" in text
    assert "渠道：社区；受众：老年人" in text
    xlsx = api.get("/v1/stats/education", "supervisor", period="2026", format="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert sheet.title == "消保宣教统计"
    assert [sheet.cell(1, 2).value, sheet.cell(2, 1).value] == ["宣教活动场次", "合计"]
    assert sheet.cell(2, 2).value == 2
    refused = api.get("/v1/stats/education", "regulator", period="2026", by="cause")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "by"
