"""The instructor's HTML report of a batch: who needs help, on what. One self-contained file.

Per assignment: the score histogram; the students, lowest score first, each with the functions that lost
points and one message for each (a hand-in that is not this assignment's work is said once); per function,
how many students lost points there and the most common failure messages with the students who got each;
each check's pass rate; whole-submission notes; the slowest submissions. Everything a student controls (ids,
paths, messages) is escaped. The only script is the table sorter inline in the page; nothing is loaded.
"""

from __future__ import annotations

import html
import math
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote

from vizgen.author.messages import NOT_IMPLEMENTED
from vizgen.engine.results import CheckResult, GradeReport
from vizgen.grade.store import STUDENTS, write_atomic

_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 80em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; vertical-align: top; }
th.sortable { cursor: pointer; text-decoration: underline dotted; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.bar { background: #4c78a8; height: 0.8em; display: inline-block; }
.message { font-family: ui-monospace, monospace; font-size: 0.9em; white-space: pre-wrap; }
.who { color: #555; font-size: 0.9em; }
"""
# Sorts a table by the clicked column (numbers by their data-value); no request, no other effect.
_SORTER = """
document.querySelectorAll("table.sortable th.sortable").forEach((th) => th.addEventListener("click", () => {
  const table = th.closest("table"), body = table.tBodies[0], index = th.cellIndex;
  const up = th.dataset.order !== "up"; th.dataset.order = up ? "up" : "down";
  const key = (row) => { const cell = row.cells[index]; const v = cell.dataset.value;
                         return v === undefined ? cell.textContent.trim() : parseFloat(v); };
  [...body.rows].sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (up ? 1 : -1))
    .forEach((row) => body.appendChild(row));
}));
"""
_TOP_MESSAGES = 3  # failure messages shown per function and per check
_SLOWEST = 10


def _e(text: object) -> str:
    return html.escape(str(text))


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else ""


def _untouched(checks: list[CheckResult]) -> bool:
    """All of a function's checks failed because it still raises NotImplementedError."""
    return all(not c.passed and NOT_IMPLEMENTED in c.message for c in checks)


def _by_function(report: GradeReport) -> dict[str, list[CheckResult]]:
    grouped: dict[str, list[CheckResult]] = defaultdict(list)
    for check in report.checks:
        grouped[check.function].append(check)
    return grouped


def histogram_svg(scores: list[float], max_score: float, width: int = 640, height: int = 220) -> str:
    """An inline SVG bar chart of the scores in whole-point bins (bins of several whole points above 40 points),
    with axis titles; bar ``i`` counts the scores in ``[i * step, (i + 1) * step)``: full marks get their own bar."""
    step = max(1, math.ceil(max_score / 40)) if max_score else 1
    bins = int(max_score // step) + 1
    counts = [0] * bins
    for score in scores:
        counts[min(int(score // step), bins - 1)] += 1
    left, bottom, top_pad = 40, 42, 16
    plot_w, plot_h = width - left - 10, height - bottom - top_pad
    top = max(counts) or 1
    bar_w = plot_w / bins
    label_every = max(1, math.ceil(bins / 20))  # tick labels that do not overlap
    parts = []
    for i, count in enumerate(counts):
        h = plot_h * count / top
        low = i * step
        span = f"{low:g}" if step == 1 else f"{low:g}-{low + step - 1:g}"
        x = left + i * bar_w
        parts.append(f'<rect x="{x + 1:.1f}" y="{top_pad + plot_h - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                     f'height="{h:.1f}" fill="#4c78a8"><title>{span} points: {count} students</title></rect>')
        if count:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top_pad + plot_h - h - 3:.1f}" font-size="11" '
                         f'text-anchor="middle">{count}</text>')
        if i % label_every == 0 or i == bins - 1:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top_pad + plot_h + 14}" font-size="10" '
                         f'text-anchor="middle">{low:g}</text>')
    axes = (f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#888"/>'
            f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="12" text-anchor="middle">'
            f'score (points{"" if step == 1 else f", bins of {step}"}; maximum {max_score:g})</text>'
            f'<text x="12" y="{top_pad + plot_h / 2:.1f}" font-size="12" text-anchor="middle" '
            f'transform="rotate(-90 12 {top_pad + plot_h / 2:.1f})">students</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            f'aria-label="score histogram">{"".join(parts)}{axes}</svg>')


def _student_row(report: GradeReport, assignment: str) -> str:
    base = f"{STUDENTS}/{quote(report.student, safe='')}/{quote(assignment, safe='')}"
    links = f'<a href="{base}/results.json">results.json</a> &middot; <a href="{base}/feedback.html">feedback</a>'
    if report.problem:  # the notebook's name, not where this machine keeps it
        problem = report.problem.replace(report.submission, Path(report.submission).name)
        lost = f'<span class="message">{_e(problem)}</span>'
    else:
        items, untouched = [], []
        for function, checks in _by_function(report).items():
            missing = sum(c.points - c.score for c in checks)
            if not missing:
                continue
            if _untouched(checks):
                untouched.append(function)
                continue
            first = next(c for c in checks if not c.passed)
            items.append(f"<div><b>{_e(function)}</b> (&minus;{missing:g}): "
                         f'<span class="message">{_e(_first_line(first.message))}</span></div>')
        if untouched:
            items.append(f"<div>not started: {_e(', '.join(untouched))}</div>")
        lost = "".join(items) or "&mdash;"
    return (f'<tr><td>{_e(report.student or Path(report.submission).stem)}</td>'
            f'<td class="num" data-value="{report.score:g}">{report.score:g}/{report.max_score:g}</td>'
            f"<td>{lost}</td><td>{links}</td></tr>")


def _students_table(group: list[GradeReport], assignment: str) -> str:
    rows = "".join(_student_row(r, assignment) for r in sorted(group, key=lambda r: (r.score, r.student)))
    return ('<table class="sortable" id="students"><thead><tr><th class="sortable">student</th>'
            '<th class="sortable">score</th><th>functions that lost points, and why</th><th>results</th></tr>'
            f"</thead><tbody>{rows}</tbody></table>")


def _function_rows(group: list[GradeReport]) -> str:
    graded = [r for r in group if not r.problem]
    functions = list(dict.fromkeys(c.function for r in group for c in r.checks))
    rows = []
    for function in functions:
        lost, untouched = [], []
        messages: dict[str, list[str]] = defaultdict(list)
        for r in graded:
            checks = _by_function(r).get(function, [])
            if all(c.passed for c in checks):
                continue
            lost.append(r.student)
            if _untouched(checks):
                untouched.append(r.student)
                continue
            first = next(c for c in checks if not c.passed)  # one message per student: their first failure
            messages[_first_line(first.message)].append(r.student)
        common = sorted(messages.items(), key=lambda kv: -len(kv[1]))[:_TOP_MESSAGES]
        cells = "".join(f'<div><b>{len(who)}</b> &times; <span class="message">{_e(m)}</span> '
                        f'<span class="who">({_e(", ".join(who))})</span></div>' for m, who in common)
        if untouched:
            cells += f'<div>not started by {len(untouched)}: <span class="who">{_e(", ".join(untouched))}</span></div>'
        rows.append(f'<tr><td>{_e(function)}</td><td class="num" data-value="{len(lost)}">{len(lost)}/{len(graded)}'
                    f"</td><td>{cells or '&mdash;'}</td></tr>")
    return "".join(rows)


def _check_rows(group: list[GradeReport]) -> str:
    graded = [r for r in group if not r.problem]
    rows = []
    for name in dict.fromkeys(c.name for r in graded for c in r.checks):
        results = [c for r in graded for c in r.checks if c.name == name]
        passed = sum(c.passed for c in results)
        rate = passed / len(results)
        failures = Counter(_first_line(c.message) for c in results
                           if not c.passed and NOT_IMPLEMENTED not in c.message).most_common(_TOP_MESSAGES)
        messages = "".join(f'<div><b>{count}</b> &times; <span class="message">{_e(message)}</span></div>'
                           for message, count in failures)
        rows.append(f'<tr><td>{_e(name)}</td><td class="num">{passed}/{len(results)}</td>'
                    f'<td><span class="bar" style="width:{rate * 8:.2f}em"></span> {rate:.0%}</td>'
                    f'<td>{messages}</td></tr>')
    return "".join(rows)


def _assignment_section(name: str, group: list[GradeReport]) -> str:
    max_score = max(r.max_score for r in group)
    scores = sorted(r.score for r in group)
    median = scores[len(scores) // 2]
    full = sum(r.score >= r.max_score for r in group)
    parts = [f"<h2>{_e(name)}: {len(group)} submissions</h2>"
             f"<p>median {median:g}/{max_score:g}; full marks: {full}; zero: {sum(s == 0 for s in scores)}</p>"
             f"<h3>Scores</h3>{histogram_svg(scores, max_score)}"
             "<h3>Students, lowest score first</h3>" + _students_table(group, name) +
             "<h3>Functions: who lost points there, and the most common mistakes</h3>"
             '<table class="sortable"><thead><tr><th class="sortable">function</th>'
             '<th class="sortable">students who lost points</th><th>most common failure messages (students)</th>'
             f"</tr></thead><tbody>{_function_rows(group)}</tbody></table>"
             "<h3>Checks</h3><table><tr><th>check</th><th>passed</th><th>pass rate</th>"
             f"<th>most common failure messages (students)</th></tr>{_check_rows(group)}</table>"]
    notes = Counter(note for r in group for note in r.notes).most_common(_TOP_MESSAGES * 3)
    if notes:
        parts.append("<h3>Notes on whole submissions</h3><table><tr><th>students</th><th>note</th></tr>"
                     + "".join(f'<tr><td class="num">{n}</td><td class="message">{_e(note)}</td></tr>'
                               for note, n in notes) + "</table>")
    slow = sorted(group, key=lambda r: r.seconds, reverse=True)[:_SLOWEST]
    parts.append("<h3>Slowest submissions</h3><table><tr><th>student</th><th>seconds</th><th>score</th></tr>"
                 + "".join(f'<tr><td>{_e(r.student)}</td><td class="num">{r.seconds:.2f}</td>'
                           f'<td class="num">{r.score:g}/{r.max_score:g}</td></tr>' for r in slow) + "</table>")
    return "".join(parts)


def render(reports: list[GradeReport], title: str = "Grading report") -> str:
    """The report as one HTML page."""
    by_assignment: dict[str, list[GradeReport]] = {}
    for r in reports:
        by_assignment.setdefault(r.assignment, []).append(r)
    body = "".join(_assignment_section(name, group) for name, group in by_assignment.items())
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(title)}</title><style>{_CSS}</style>"
            f"</head><body><h1>{_e(title)}</h1>{body}<script>{_SORTER}</script></body></html>\n")


def render_feedback(report: GradeReport) -> str:
    """One student's feedback page: the score, then each function's checks with their messages."""
    rows = []
    for function, checks in _by_function(report).items():
        got, points = sum(c.score for c in checks), sum(c.points for c in checks)
        rows.append(f"<h3>{_e(function)}: {got:g}/{points:g}</h3><ul>" + "".join(
            f"<li>{'passed' if c.passed else 'FAILED'}: {_e(c.name)} [{c.score:g}/{c.points:g}]"
            + ("" if c.passed else f'<div class="message">{_e(c.message)}</div>')
            + (f'<img alt="output and difference" src="data:image/png;base64,{c.figure}">' if c.figure else "")
            + "</li>" for c in checks) + "</ul>")
    problem = f'<p class="message">{_e(report.problem)}</p>' if report.problem else ""
    title = f"{report.student}: {report.assignment}"
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(title)}</title><style>{_CSS}</style>"
            f"</head><body><h1>{_e(title)}</h1><p>score {report.score:g}/{report.max_score:g}</p>{problem}"
            f"{''.join(rows)}</body></html>\n")


def write_report(reports: list[GradeReport], path: Path) -> Path:
    """``report.html`` in ``path``'s folder, and each student's ``feedback.html`` beside their results.json."""
    for r in reports:
        write_atomic(path.parent / STUDENTS / r.student / r.assignment / "feedback.html", render_feedback(r))
    write_atomic(path, render(reports))
    return path
