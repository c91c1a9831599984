"""Dispute clock parameters (纠纷化解时限) and the date arithmetic of each window, without I/O.

Counting follows domain.md section 0: a period of N days from an instant on CST day D
excludes D and ends at the end of day D + N; months end on the same date of the later month
or its last day; working days follow the `WorkingCalendar`; nothing is moved past a weekend
or holiday, so the ledger's deadlines are never later than the legal ones. Every due pair is
`(due_date, due_at)`: the last CST day and its last instant as aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from domain.common import InvalidInput, add_months, cst_date, deadline, end_of_day
from domain.dispute_calendar import WorkingCalendar
from domain.dispute_values import (
    EnforcementWindowClosed,
    Mediation,
    MediationPeriodExpired,
    PerformanceNotDue,
    Title,
    check_aware,
    check_not_before,
)

Due = tuple[date, datetime]


@dataclass(frozen=True)
class DisputeRules:
    """The dispute-resolution parameters (reference data); defaults as of 2026."""

    # 人民法院在线调解规则 (法释〔2021〕23号) and the court's delegation of pre-filing
    # mediation: the mediator answers a request within 3 working days (domain.md §3).
    mediator_acceptance_working_days: int = 3
    # 最高人民法院关于进一步完善委派调解机制的指导意见 (2020): pre-filing (委派) mediation
    # lasts 30 days from acceptance, longer only with the parties' consent.
    mediation_period_days: int = 30
    # 人民调解法 art. 33 and 民事诉讼法 (特别程序, 确认调解协议案件): the parties apply
    # jointly within 30 days of the agreement taking effect.
    confirmation_application_days: int = 30
    # 最高人民法院关于人民调解协议司法确认程序的若干规定 (法释〔2011〕5号) art. 6: decide
    # within 15 days of accepting the application.
    confirmation_decision_target_days: int = 15
    # domain.md §3: the statutory maximum for the confirmation decision, from acceptance.
    confirmation_decision_max_days: int = 30
    # contract.md (mediation and arbitration events): `performance_due` defaults to 15 days
    # after signing or issue when the agreement or award does not fix it.
    performance_days: int = 15
    # 仲裁法 (revised 2025, in force 2026-03-01): apply to set an award aside within 3 months;
    # 仲裁法 (1994) art. 59: 6 months for awards made before that date. Counted from issue,
    # not receipt, so the ledger's window is never later than the legal one.
    set_aside_cutoff: date = date(2026, 3, 1)
    set_aside_months: int = 3
    set_aside_months_before_cutoff: int = 6
    # 民事诉讼法 (申请执行的期间): 2 years from the last day of the performance period.
    enforcement_application_months: int = 24
    # Holidays and make-up working days (国务院办公厅 annual holiday notice).
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def __post_init__(self) -> None:
        counts = (
            self.mediator_acceptance_working_days,
            self.mediation_period_days,
            self.confirmation_application_days,
            self.confirmation_decision_target_days,
            self.confirmation_decision_max_days,
            self.performance_days,
            self.set_aside_months,
            self.set_aside_months_before_cutoff,
            self.enforcement_application_months,
        )
        if any(n <= 0 for n in counts):
            raise ValueError("every dispute period must be positive")
        if self.confirmation_decision_target_days > self.confirmation_decision_max_days:
            raise ValueError("the confirmation decision target cannot exceed its maximum")


def on_day(day: date) -> Due:
    """A due pair ending with the CST day `day`."""
    return day, end_of_day(day)


def mediator_acceptance_due(requested_at: datetime, rules: DisputeRules) -> Due:
    """The mediator accepts within N working days of the request (the request day excluded)."""
    days = rules.mediator_acceptance_working_days
    return on_day(rules.calendar.add_working_days(cst_date(requested_at), days))


def mediation_period_due(
    accepted_at: datetime, extended_until: date | None, rules: DisputeRules
) -> Due:
    """The pre-filing mediation period: N days from acceptance, or the agreed later last day."""
    due_date, due_at = deadline(accepted_at, rules.mediation_period_days)
    if extended_until is not None and extended_until > due_date:
        return on_day(extended_until)
    return due_date, due_at


def confirmation_application_due(signed_at: datetime, rules: DisputeRules) -> Due:
    """The court must receive the joint application within N days of the agreement's effect."""
    return deadline(signed_at, rules.confirmation_application_days)


def confirmation_decision_dues(accepted_at: datetime, rules: DisputeRules) -> tuple[Due, Due]:
    """The court's decision: the target and the statutory maximum, from its acceptance."""
    return (
        deadline(accepted_at, rules.confirmation_decision_target_days),
        deadline(accepted_at, rules.confirmation_decision_max_days),
    )


def default_performance_due(effective_at: datetime, rules: DisputeRules) -> date:
    """The last day to perform when the agreement or award does not fix one."""
    return deadline(effective_at, rules.performance_days)[0]


def due_to_perform(effective_at: datetime, given: date | None, rules: DisputeRules) -> date:
    """The last day to perform: the date the agreement or award fixes (not before it takes
    effect), else the default period."""
    if given is None:
        return default_performance_due(effective_at, rules)
    if not isinstance(given, date) or isinstance(given, datetime) or given < cst_date(effective_at):
        raise InvalidInput("performance_due", "must be a date on or after the effective date")
    return given


def set_aside_due(issued_at: datetime, rules: DisputeRules) -> Due:
    """The window to apply to set an award aside: 3 months from 2026-03-01, 6 months before."""
    day = cst_date(issued_at)
    before = day < rules.set_aside_cutoff
    months = rules.set_aside_months_before_cutoff if before else rules.set_aside_months
    return on_day(add_months(day, months))


def enforcement_application_due(performance_due: date, rules: DisputeRules) -> Due:
    """The court must receive the enforcement application within 2 years of the last day."""
    return on_day(add_months(performance_due, rules.enforcement_application_months))


def check_within_mediation(
    m: Mediation, instant: datetime, field: str, rules: DisputeRules
) -> None:
    """A session or signing falls after the acceptance and within the mediation period."""
    assert m.accepted_at is not None
    check_not_before(field, instant, m.accepted_at, "the acceptance")
    due_date, due_at = mediation_period_due(m.accepted_at, m.extended_until, rules)
    if instant > due_at:
        raise MediationPeriodExpired(f"the mediation period ended with {due_date}")


def check_enforcement_window(t: Title, instant: datetime, field: str, rules: DisputeRules) -> None:
    """Enforcement is named or applied for after the performance deadline passed, within 2 years."""
    check_aware(field, instant)
    due_date, due_at = enforcement_application_due(t.performance_due, rules)
    if instant <= end_of_day(t.performance_due):
        raise PerformanceNotDue(f"performance is due by the end of {t.performance_due}")
    if instant > due_at:
        raise EnforcementWindowClosed(f"enforcement was to be applied for by the end of {due_date}")
