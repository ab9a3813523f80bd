#!/usr/bin/env python3
"""Build ``static/description/index.html`` (the Apps page) from the ``readme/`` fragments.

Odoo shows ``static/description/index.html`` on the module's page; without it, it
renders ``README.md`` as reStructuredText and logs docutils warnings on install.
Run this after editing a fragment (needs the ``markdown`` package):

    python3 tools/gen_description.py

Fragments come in OCA's order; any other ``readme/*.md`` (e.g. SENTIMENT.md) is
placed after USAGE, alphabetically.
"""

from __future__ import annotations

import ast
import html
from pathlib import Path

import markdown

ROOT = Path(__file__).resolve().parent.parent
BEFORE = ["DESCRIPTION", "INSTALL", "CONFIGURE", "USAGE"]
AFTER = ["ROADMAP", "HISTORY", "CREDITS", "CONTRIBUTORS"]
TITLES = {
    "DESCRIPTION": "",
    "INSTALL": "Installation",
    "CONFIGURE": "Configuration",
    "USAGE": "Usage",
    "ROADMAP": "Known issues / Roadmap",
    "HISTORY": "Changelog",
    "CREDITS": "Credits",
    "CONTRIBUTORS": "Contributors",
}


def fragments(readme: Path) -> list[Path]:
    present = {p.stem.upper(): p for p in readme.glob("*.md")}
    extra = sorted(k for k in present if k not in BEFORE + AFTER)
    return [present[k] for k in BEFORE + extra + AFTER if k in present]


def main() -> int:
    manifest = ast.literal_eval((ROOT / "__manifest__.py").read_text())
    parts = [
        f"<h1>{html.escape(manifest['name'])}</h1>",
        f"<p><strong>{html.escape(manifest.get('summary', ''))}</strong></p>",
    ]
    for path in fragments(ROOT / "readme"):
        stem = path.stem.upper()
        title = TITLES.get(stem, stem.replace("_", " ").capitalize())
        if title:
            parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(markdown.markdown(path.read_text(), extensions=["tables", "fenced_code"]))
    body = "\n".join(parts)
    out = ROOT / "static" / "description" / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        f'<section class="oe_container"><div class="oe_row oe_spaced">\n{body}\n</div></section>\n',
        encoding="utf-8",
    )
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
