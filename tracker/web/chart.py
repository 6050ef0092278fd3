"""The geometry of the bill page's coverage chart: articles per week as bars, the bill's milestones as numbered
dashed lines (their words are listed under the chart, so no label is ever cut), a y axis from 0 to the
busiest week and a few date ticks on the x axis. Drawn in a 400-wide viewBox that the page scales to its width;
every label is placed inside that box. No article, no chart."""

from __future__ import annotations

import math
from datetime import date, timedelta

WIDTH, HEIGHT = 400, 230
LEFT, RIGHT, BOTTOM = 46, 14, 34  # room for the y ticks and the axis title; for the date ticks
FONT = 12
BADGE = 9  # radius of a milestone's numbered disc
ROW = 2 * BADGE + 4  # discs too close to share a row are stacked


def _text_width(label: str, size: int = FONT) -> float:
    return 0.62 * size * len(label)  # a generous estimate for a sans-serif font


def y_ticks(top: int) -> tuple[int, list[int]]:
    """The axis' maximum and its ticks: every count up to 5, else steps of 1, 2 or 5 times a power of ten."""
    top = max(1, top)
    step = 1
    while top / step > 5:
        for m in (2, 5, 10):
            if top / (step * m) <= 5 or m == 10:
                step *= m
                break
    axis = math.ceil(top / step) * step
    return axis, list(range(0, axis + 1, step))


def x_ticks(start: date, end: date) -> list[tuple[date, str]]:
    """Dates to mark under the chart: the first of a month (a few of them; the year with the first and with
    January), or Mondays when the range holds fewer than two month starts."""
    firsts, d = [], date(start.year, start.month, 1)
    while d <= end:
        if d >= start:
            firsts.append(d)
        d = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    if len(firsts) >= 2:
        chosen = firsts[::math.ceil(len(firsts) / 4)]
        return [(t, f"{t:%b} {t.year}" if i == 0 or t.month == 1 else f"{t:%b}") for i, t in enumerate(chosen)]
    monday = start + timedelta(days=(7 - start.weekday()) % 7)
    mondays = [monday + timedelta(weeks=i) for i in range((end - monday).days // 7 + 1)]
    chosen = mondays[::math.ceil(len(mondays) / 4)] if mondays else []
    return [(t, f"{t:%b} {t.day}") for t in chosen]


def chart_svg_data(cov: dict) -> dict | None:
    """Positions for the server-rendered SVG, from ``archive.coverage_by_week``; None when no article."""
    if not cov["weeks"]:
        return None
    weeks = [(date.fromisoformat(w), n) for w, n in cov["weeks"]]
    marks = [m | {"day": date.fromisoformat(m["date"])} for m in cov["milestones"]]
    days = [w for w, _ in weeks] + [m["day"] for m in marks]
    start, end = min(days) - timedelta(days=7), max(days) + timedelta(days=14)
    span = (end - start).days
    x0, x1 = LEFT, WIDTH - RIGHT

    def x(d: date) -> float:
        return round(x0 + (d - start).days / span * (x1 - x0), 1)

    rows: list[float] = []  # the rightmost disc of each row
    placed = []
    for n, m in enumerate(sorted(marks, key=lambda m: m["day"]), start=1):
        mx = x(m["day"])
        row = next((i for i, last in enumerate(rows) if mx - last >= 2 * BADGE + 2), len(rows))
        if row < len(rows):
            rows[row] = mx
        else:
            rows.append(mx)
        placed.append({"n": n, "x": mx, "row": row, "label": m["label"], "date": m["date"], "action": m["action"]})
    y0, y1 = 8 + len(rows) * ROW + 4, HEIGHT - BOTTOM
    for p in placed:
        p["cx"] = min(max(p["x"], BADGE + 1), WIDTH - BADGE - 1)
        p["cy"] = 8 + BADGE + p["row"] * ROW
    axis, ticks = y_ticks(max(n for _, n in weeks))

    def y(n: float) -> float:
        return round(y1 - n / axis * (y1 - y0), 1)

    bar_w = max(1.5, round(7 / span * (x1 - x0) - 1, 1))
    bars = [{"x": x(w), "w": bar_w, "y": y(n), "h": round(y1 - y(n), 1), "n": n, "week": w.isoformat()}
            for w, n in weeks]
    xt = []
    for d, label in x_ticks(start, end):
        half = _text_width(label) / 2
        xt.append({"x": x(d), "label": label, "lx": round(min(max(x(d), half + 2), WIDTH - half - 2), 1)})
    return {"width": WIDTH, "height": HEIGHT, "x0": x0, "x1": x1, "y0": y0, "y1": y1, "font": FONT,
            "badge": BADGE, "bars": bars, "marks": placed, "top": axis, "xticks": xt,
            "yticks": [{"y": y(t), "label": t} for t in ticks], "title_y": round((y0 + y1) / 2, 1),
            "start": start.isoformat(), "end": end.isoformat()}
