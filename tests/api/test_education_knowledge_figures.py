"""The knowledge base inside the education statistics (issue 15 item 6): published articles
per category, questions handed off per day, in the JSON and in the CSV/XLSX files."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from api import education_models as em
from application.ledger import utc_now
from domain.common import cst_date
from tests.api.conftest import Api
from tests.api.test_knowledge_api import ARTICLE, FRAUD, ask, gaps_once_flushed, published


def test_education_figures_count_published_articles_and_handed_off_questions(api: Api) -> None:
    published(api, ARTICLE)
    published(api, FRAUD)
    assert ask(api, "明天去哪里看电影比较好", after=api.count())["handoff"] is True
    assert len(gaps_once_flushed(api, 1)) == 1
    today = cst_date(utc_now())
    period = f"{today.year}"
    body = api.get(
        "/v1/stats/education", "regulator", period=period, position=api.count(), wait=5
    ).json()
    em.EducationStatistics.model_validate(body)
    assert body["caught_up"] is True
    totals = body["totals"]
    assert (totals["published_articles"], totals["questions_handed_off"]) == (2, 1)
    assert body["knowledge"]["categories"] == [
        {"key": {"category": "anti_fraud"}, "published_articles": 1},
        {"key": {"category": "surrender"}, "published_articles": 1},
    ]
    days = body["knowledge"]["days"]
    assert [(d["day"], d["handed_off"]) for d in days] == [(today.isoformat(), 1)]

    csv = api.get("/v1/stats/education", "regulator", period=period, format="csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    header, total = lines[0].split(","), lines[1].split(",")
    assert total[header.index("已发布知识文章")] == "2"
    assert total[header.index("转人工问题数")] == "1"
    xlsx = api.get("/v1/stats/education", "supervisor", period=period, format="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    headings = [cell.value for cell in sheet[1]]
    assert sheet.cell(2, headings.index("已发布知识文章") + 1).value == 2
