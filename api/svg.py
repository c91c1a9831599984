"""Server-rendered SVG charts (no scripts, no CDN): bars and lines, every value as text."""

from __future__ import annotations

from html import escape


def bars(
    title: str,
    items: list[tuple[str, float]],
    width: int = 420,
    unit: str = "",
    money: bool = False,
) -> str:
    """A horizontal bar chart; every bar carries its value as text (amounts of money with
    two decimals and thousands separators)."""
    row, left, top = 26, 110, 30
    height = top + row * max(1, len(items)) + 10
    peak = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * row
        length = (width - left - (100 if money else 70)) * (value / peak)
        parts.append(f'<text x="4" y="{y + 15}" font-size="12">{escape(label)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="16" fill="#2f6db5"/>'
        )
        parts.append(
            f'<text x="{left + length + 6:.1f}" y="{y + 15}" font-size="12">'
            f"{escape(f'{value:,.2f}' if money else _number(value))}{escape(unit)}</text>"
        )
    if not items:
        parts.append(f'<text x="4" y="{top + 15}" font-size="12">暂无数据</text>')
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


PALETTE = ("#2f6db5", "#d9822b", "#3a9a5b", "#b53f3f", "#7a5bb5")


def lines(
    title: str,
    labels: list[str],
    series: list[tuple[str, list[float | None]]],
    width: int = 560,
    height: int = 260,
    unit: str = "",
) -> str:
    """A line chart over ordered labels (quarters): one line per series, a dot and its value
    at every label (None: no value there, the line breaks), a legend under the title and a
    light grid; no scripts."""
    left, right, top, bottom = 44, 36, 52, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, values in series for v in values if v is not None), default=0) or 1
    step = plot_w / max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / peak)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for k, (name, _) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        lx = 8 + k * 120
        parts.append(f'<rect x="{lx}" y="28" width="12" height="4" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 16}" y="34" font-size="12">{escape(name)}</text>')
    for g in range(5):
        gy = top + plot_h * g / 4
        parts.append(
            f'<line x1="{left}" y1="{gy:.1f}" x2="{width - right}" y2="{gy:.1f}" stroke="#e4e4e4"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{gy + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#777">{escape(_number(round(peak * (4 - g) / 4, 2)))}</text>'
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - 12}" font-size="11" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for k, (name, values) in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        for run in _runs(values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" '
                f'data-series="{escape(name)}"/>'
            )
        for i, value in enumerate(values):
            if value is None:
                continue
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}"/>')
            parts.append(
                f'<text x="{x(i):.1f}" y="{y(value) - 7:.1f}" font-size="10" '
                f'text-anchor="middle" fill="{colour}">'
                f"{escape(_number(value))}{escape(unit)}</text>"
            )
    if not labels:
        parts.append(f'<text x="{left}" y="{top + 20}" font-size="12">暂无数据</text>')
    parts.append("</svg>")
    return "".join(parts)


def _runs(values: list[float | None]) -> list[list[tuple[int, float]]]:
    """The stretches of consecutive values (a None breaks the line)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((i, value))
    return [run for run in runs if run]
