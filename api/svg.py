"""Server-rendered SVG bar charts (no scripts, no CDN): labels, values, a title."""

from __future__ import annotations

from html import escape


def bars(title: str, items: list[tuple[str, float]], width: int = 420, unit: str = "") -> str:
    """A horizontal bar chart; every bar carries its value as text."""
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
        length = (width - left - 70) * (value / peak)
        parts.append(f'<text x="4" y="{y + 15}" font-size="12">{escape(label)}</text>')
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{length:.1f}" height="16" fill="#2f6db5"/>'
        )
        parts.append(
            f'<text x="{left + length + 6:.1f}" y="{y + 15}" font-size="12">'
            f"{escape(_number(value))}{escape(unit)}</text>"
        )
    if not items:
        parts.append(f'<text x="4" y="{top + 15}" font-size="12">暂无数据</text>')
    parts.append("</svg>")
    return "".join(parts)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
