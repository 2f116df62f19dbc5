"""The instructor's HTML report of a batch: one self-contained file (inline CSS and SVG, no script).

Sections: the score histogram, each check's pass rate, the most common failure messages of
each check with how many students got each, notes on whole submissions (an unreadable
notebook), and the slowest submissions.
"""

from __future__ import annotations

import html
from collections import Counter
from pathlib import Path

from vizgen.grade.store import write_atomic
from vizgen.engine.results import GradeReport

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 70em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #4c78a8; height: 0.8em; display: inline-block; }
.message { font-family: ui-monospace, monospace; font-size: 0.9em; white-space: pre-wrap; }
"""
_TOP_MESSAGES = 3  # failure messages shown per check
_SLOWEST = 10


def _e(text: object) -> str:
    return html.escape(str(text))


def histogram_svg(scores: list[float], max_score: float, bins: int = 10, width: int = 600, height: int = 200) -> str:
    """An inline SVG bar chart of the scores in ``bins`` equal bins over [0, max_score]."""
    counts = [0] * bins
    for score in scores:
        fraction = score / max_score if max_score else 0.0
        counts[min(int(fraction * bins), bins - 1)] += 1
    top = max(counts) or 1
    bar_w, plot_h = width / bins, height - 30
    bars = []
    for i, count in enumerate(counts):
        h = plot_h * count / top
        low, high = max_score * i / bins, max_score * (i + 1) / bins
        bars.append(
            f'<rect x="{i * bar_w + 1:.1f}" y="{plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
            'fill="#4c78a8">'
            f"<title>{low:g}-{high:g} points: {count} students</title></rect>"
            f'<text x="{(i + 0.5) * bar_w:.1f}" y="{plot_h - h - 3:.1f}" font-size="11" text-anchor="middle">'
            f'{count or ""}</text>'
            f'<text x="{i * bar_w + 2:.1f}" y="{height - 12}" font-size="10">{low:g}</text>'
        )
    label = f'<text x="{width - 2}" y="{height - 12}" font-size="10" text-anchor="end">{max_score:g}</text>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="score histogram">{"".join(bars)}{label}</svg>')


def _check_rows(reports: list[GradeReport]) -> str:
    names = list(dict.fromkeys(c.name for r in reports for c in r.checks))
    rows = []
    for name in names:
        results = [c for r in reports for c in r.checks if c.name == name]
        passed = sum(c.passed for c in results)
        rate = passed / len(results)
        failures = Counter(c.message for c in results if not c.passed).most_common(_TOP_MESSAGES)
        messages = "".join(f'<div><b>{count}</b> &times; <span class="message">{_e(message)}</span></div>'
                           for message, count in failures)
        rows.append(f'<tr><td>{_e(name)}</td><td class="num">{passed}/{len(results)}</td>'
                    f'<td><span class="bar" style="width:{rate * 8:.2f}em"></span> {rate:.0%}</td>'
                    f'<td>{messages}</td></tr>')
    return "".join(rows)


def render(reports: list[GradeReport], title: str = "Grading report") -> str:
    """The report as one HTML page."""
    by_assignment: dict[str, list[GradeReport]] = {}
    for r in reports:
        by_assignment.setdefault(r.assignment, []).append(r)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{_e(title)}</h1>"]
    for name, group in by_assignment.items():
        max_score = max(r.max_score for r in group)
        scores = sorted(r.score for r in group)
        median = scores[len(scores) // 2]
        full = sum(r.score >= r.max_score for r in group)
        parts.append(f"<h2>{_e(name)}: {len(group)} submissions</h2>"
                     f"<p>median {median:g}/{max_score:g}; full marks: {full}; zero: {sum(s == 0 for s in scores)}</p>"
                     f"<h3>Scores</h3>{histogram_svg(scores, max_score)}"
                     "<h3>Checks</h3><table><tr><th>check</th><th>passed</th><th>pass rate</th>"
                     f"<th>most common failure messages (students)</th></tr>{_check_rows(group)}</table>")
        notes = Counter(note for r in group for note in r.notes).most_common(_TOP_MESSAGES * 3)
        if notes:
            parts.append("<h3>Notes on whole submissions</h3><table><tr><th>students</th><th>note</th></tr>"
                         + "".join(f'<tr><td class="num">{n}</td><td class="message">{_e(note)}</td></tr>'
                                   for note, n in notes) + "</table>")
        slow = sorted(group, key=lambda r: r.seconds, reverse=True)[:_SLOWEST]
        parts.append("<h3>Slowest submissions</h3><table><tr><th>student</th><th>seconds</th><th>score</th>"
                     "<th>notebook</th></tr>" + "".join(
                         f'<tr><td>{_e(r.student)}</td><td class="num">{r.seconds:.2f}</td>'
                         f'<td class="num">{r.score:g}/{r.max_score:g}</td><td>{_e(r.submission)}</td></tr>'
                         for r in slow)
                     + "</table>")
    parts.append("</body></html>\n")
    return "".join(parts)


def write_report(reports: list[GradeReport], path: Path) -> Path:
    write_atomic(path, render(reports))
    return path
