"""The figure in docs/performance.md: a plain SVG drawn from the benchmarks' JSON results (no plot library).

    python -m bench.plot --imports bench/out/results/import-sqlite.jsonl \
        --pages bench/out/results/pages.jsonl --out docs/performance.svg [--png docs/performance.png]

Left: import throughput (CSV rows/s) of ours, (a) pandas and (b) executemany against ledger size.
Right: page run time as a ratio to the 1k-event ledger (cold runs solid, warm reruns dashed, and the filter
change), with the 2x target.
Both x axes are logarithmic. --png renders the SVG to PNG with headless Chromium (Playwright).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 1100, 460
PANEL_W, PANEL_H = 430, 300
COLOURS = ("#1f3a5f", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d6a9f")


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _panel(
    x0: float,
    y0: float,
    title: str,
    series: dict[str, list[tuple[float, float]]],
    *,
    y_label: str,
    y_max: float,
    y_ticks: list[float],
    y_format: str,
    target: float | None = None,
    dashed: frozenset[str] = frozenset(),
    colours: dict[str, str] | None = None,
) -> list[str]:
    sizes = sorted({x for points in series.values() for x, _ in points})
    lo, hi = math.log10(sizes[0]), math.log10(sizes[-1])

    def px(x: float) -> float:
        return x0 + (math.log10(x) - lo) / ((hi - lo) or 1) * PANEL_W

    def py(y: float) -> float:
        return y0 + PANEL_H - y / y_max * PANEL_H

    out = [
        (
            f'<text x="{x0 + PANEL_W / 2}" y="{y0 - 18}" text-anchor="middle" font-size="15" '
            f'font-weight="bold">{escape(title)}</text>'
        ),
        f'<rect x="{x0}" y="{y0}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#999"/>',
    ]
    for tick in y_ticks:
        out.append(
            f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" stroke="#e3e3e3"/>'
        )
        out.append(
            f'<text x="{x0 - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{format(tick, y_format)}</text>"
        )
    for size in sizes:
        label = f"{size / 1e6:g}M" if size >= 1e6 else f"{size / 1e3:g}k"
        out.append(
            f'<text x="{px(size):.1f}" y="{y0 + PANEL_H + 16}" text-anchor="middle" font-size="11">'
            f"{label}</text>"
        )
    out.append(
        f'<text x="{x0 + PANEL_W / 2}" y="{y0 + PANEL_H + 34}" text-anchor="middle" font-size="12">'
        "ledger size (events, log scale)</text>"
    )
    out.append(
        f'<text x="{x0 - 52}" y="{y0 + PANEL_H / 2}" text-anchor="middle" font-size="12" '
        f'transform="rotate(-90 {x0 - 52} {y0 + PANEL_H / 2})">{escape(y_label)}</text>'
    )
    if target is not None:
        out.append(
            f'<line x1="{x0}" x2="{x0 + PANEL_W}" y1="{py(target):.1f}" y2="{py(target):.1f}" '
            'stroke="#d1495b" stroke-dasharray="2 3"/>'
        )
        out.append(
            f'<text x="{x0 + PANEL_W - 4}" y="{py(target) - 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#d1495b">target {target:g}x</text>'
        )
    for index, (name, points) in enumerate(series.items()):
        colour = (colours or {}).get(name, COLOURS[index % len(COLOURS)])
        dash = ' stroke-dasharray="6 4"' if name in dashed else ""
        path = " ".join(f"{px(x):.1f},{py(min(y, y_max)):.1f}" for x, y in sorted(points))
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y in points:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(min(y, y_max)):.1f}" r="3" fill="{colour}"/>')
        ly = y0 + 14 + 16 * index
        out.append(
            f'<line x1="{x0 + 10}" x2="{x0 + 30}" y1="{ly - 4}" y2="{ly - 4}" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{x0 + 36}" y="{ly}" font-size="11">{escape(name)}</text>')
    return out


def _ticks(top: float, count: int = 5) -> tuple[float, list[float]]:
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [step * i for i in range(count + 2) if step * i <= top * 1.05 + step]
    return ticks[-1], ticks


def draw(imports: list[dict], pages: list[dict]) -> str:
    names = {
        "ours": "ours (validated import)",
        "a": "(a) pandas read_csv + to_sql",
        "b": "(b) csv + executemany",
    }
    throughput: dict[str, list[tuple[float, float]]] = {}
    for r in imports:
        if r.get("database", "sqlite") == "sqlite":
            point = (r["events"], r["rows_per_second"] / 1000)
            throughput.setdefault(names[r["contestant"]], []).append(point)
    y_max, y_ticks = _ticks(max(y for points in throughput.values() for _, y in points))
    parts = _panel(
        90,
        60,
        "Import throughput (SQLite, whole process)",
        throughput,
        y_label="thousand CSV rows/s",
        y_max=y_max,
        y_ticks=y_ticks,
        y_format="g",
    )

    base = {
        (r["page"], kind): r[kind]
        for r in pages
        if r["size"] == min(p["size"] for p in pages)
        for kind in ("cold", "warm")
        if r[kind]
    }
    ratios: dict[str, list[tuple[float, float]]] = {}
    colours: dict[str, str] = {}
    dashed = set()
    page_names = list(dict.fromkeys(r["page"] for r in pages))
    for kind in ("cold", "warm"):
        for r in pages:
            if kind == "cold" and r["cold"] is None:
                label = f"{r['page']} (a new country each run)"
            elif kind == "warm" and r["cold"] is not None:
                label = f"{r['page']} (warm rerun)"
                dashed.add(label)
            elif kind == "cold":
                label = f"{r['page']} (cold: empty cache)"
            else:
                continue
            measured = r["cold"] if kind == "cold" and r["cold"] is not None else r["warm"]
            reference = base[(r["page"], "cold" if kind == "cold" and r["cold"] is not None else "warm")]
            ratios.setdefault(label, []).append((r["size"], measured / reference))
            colours[label] = COLOURS[page_names.index(r["page"]) % len(COLOURS)]
    top = max(2.5, max(y for points in ratios.values() for _, y in points))
    y_max, y_ticks = _ticks(top)
    parts += _panel(
        620,
        60,
        "Page run time relative to 1k events",
        ratios,
        y_label="time / time at 1k events",
        y_max=y_max,
        y_ticks=y_ticks,
        y_format="g",
        target=2.0,
        dashed=frozenset(dashed),
        colours=colours,
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif">\n'
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n"
    )


def to_png(svg: Path, png: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
        page.set_content(f"<html><body style='margin:0'>{svg.read_text(encoding='utf-8')}</body></html>")
        page.screenshot(path=str(png), clip={"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT})
        browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plot", description=__doc__.split("\n")[0])
    parser.add_argument("--imports", type=Path, nargs="+", required=True, help="import_bench --json files")
    parser.add_argument("--pages", type=Path, required=True, help="page_bench --json file")
    parser.add_argument("--out", type=Path, default=Path("docs/performance.svg"))
    parser.add_argument("--png", type=Path, help="also render a PNG here")
    args = parser.parse_args(argv)
    imports = [r for path in args.imports for r in _read(path)]
    args.out.write_text(draw(imports, _read(args.pages)), encoding="utf-8")
    if args.png:
        to_png(args.out, args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
