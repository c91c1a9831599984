"""Demonstration education data: a few activities (one amended) and staff training sessions,
recorded through the education desk by the demo educator. Each command carries a fixed
Idempotency-Key, so running the demo again records nothing new."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from application.commands import CommandKey
from application.education import AmendActivity, RecordActivity, RecordTraining
from application.gateway import Meta
from application.services import Services
from domain.common import CST, Actor
from domain.education import EvidenceFile, Figures

EDUCATOR_NAME = "宣教专员"
EDUCATOR: dict[str, Any] = {"name": EDUCATOR_NAME, "role": "educator", "partner_id": None}
DIGEST = "9f2b5c1d7e3a4b6c8d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e"


@dataclass(frozen=True)
class DemoActivity:
    key: str
    title: str
    kind: str
    channel: str
    campaign: str
    region: str
    place: str | None
    audiences: tuple[str, ...]
    participants: int
    views: int
    start: datetime
    hours: int


def _at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CST)


ACTIVITIES = (
    DemoActivity(
        "act-315-community",
        "3·15 金融消费者权益保护进社区",
        "offline",
        "community",
        "315",
        "330106",
        "杭州市西湖区文新街道社区服务中心",
        ("elderly", "general"),
        120,
        0,
        _at(3, 15),
        3,
    ),
    DemoActivity(
        "act-315-live",
        "3·15 直播：读懂你的保单",
        "online",
        "live_stream",
        "315",
        "330100",
        None,
        ("general", "new_citizen"),
        0,
        18_600,
        _at(3, 15, 20),
        1,
    ),
    DemoActivity(
        "act-spring-wechat",
        "春节反诈提醒：谨防“保单升级”骗局",
        "online",
        "wechat",
        "anti_fraud",
        "330100",
        None,
        ("general", "elderly"),
        0,
        9_870,
        _at(1, 26, 10),
        1,
    ),
    DemoActivity(
        "act-fundraising-community",
        "防范非法集资宣传进社区",
        "offline",
        "community",
        "anti_fraud",
        "110105",
        "北京市朝阳区某社区活动室",
        ("elderly",),
        64,
        0,
        _at(5, 14, 14),
        2,
    ),
    DemoActivity(
        "act-graduates-douyin",
        "毕业季短视频：第一份保险怎么选",
        "online",
        "douyin",
        "daily",
        "110000",
        None,
        ("youth", "new_citizen"),
        0,
        42_300,
        _at(6, 20, 19),
        1,
    ),
    DemoActivity(
        "act-month-village",
        "金融教育宣传月·保险知识下乡",
        "offline",
        "village",
        "finance_month",
        "330127",
        "淳安县千岛湖镇",
        ("rural", "elderly"),
        86,
        0,
        _at(9, 12),
        2,
    ),
    DemoActivity(
        "act-fraud-school",
        "反诈防非进校园：警惕“代理退保”",
        "offline",
        "school",
        "anti_fraud",
        "330106",
        "杭州某职业技术学院",
        ("youth",),
        240,
        0,
        _at(11, 6, 14),
        2,
    ),
    DemoActivity(
        "act-daily-wechat",
        "公众号推文：理赔材料一次说清",
        "online",
        "wechat",
        "daily",
        "330100",
        None,
        ("general",),
        0,
        5_230,
        _at(11, 20, 10),
        1,
    ),
    DemoActivity(
        "act-care-home",
        "适老化服务进养老院：医保与商保一站式结算",
        "offline",
        "nursing_home",
        "daily",
        "330102",
        "上城区某养老院",
        ("elderly", "disabled"),
        45,
        0,
        _at(12, 2, 15),
        2,
    ),
)
TRAININGS = (
    ("train-complaints", "投诉处理与消费者权益保护法规", "李主管", "3", _at(10, 15, 14)),
    ("train-elderly", "适老化服务与反诈识别", "外聘讲师", "2.5", _at(11, 25, 14)),
)
TRAINEES = ("王处理", "李主管", EDUCATOR_NAME)


def load_education(services: Services) -> list[str]:
    """Record the demo activities and trainings; returns the activity ids."""
    actor = Actor(EDUCATOR_NAME, "educator")
    desk = services.education
    ids = []
    for a in ACTIVITIES:
        meta = Meta(a.start + timedelta(hours=a.hours + 1), actor)
        recorded = desk.record_activity(
            RecordActivity(
                title=a.title,
                kind=a.kind,
                channel=a.channel,
                campaign=a.campaign,
                region=a.region,
                audiences=a.audiences,
                started_at=a.start,
                ended_at=a.start + timedelta(hours=a.hours),
                place=a.place,
                participants=a.participants,
                views=a.views,
                evidence=(EvidenceFile(f"{a.key}-签到表.jpg", DIGEST, f"demo://{a.key}"),),
            ),
            meta,
            _key(actor, a.key),
        )
        ids.append(str(recorded.body["id"]))
    first = ACTIVITIES[0]
    desk.amend_activity(
        AmendActivity(UUID(ids[0]), "签到表复核：补录未签到的陪同家属", Figures(participants=132)),
        Meta(first.start + timedelta(days=2), actor),
        _key(actor, "amend-act-315-community"),
    )
    for key, topic, trainer, hours, held in TRAININGS:
        desk.record_training(
            RecordTraining(topic, trainer, Decimal(hours), held, TRAINEES, {}),
            Meta(held + timedelta(hours=4), actor),
            _key(actor, key),
        )
    return ids


def _key(actor: Actor, key: str) -> CommandKey:
    # One digest per key: the demo's commands never change between runs.
    return CommandKey(actor.name, f"demo-{key}", f"demo-{key}")
