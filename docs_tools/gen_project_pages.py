"""Put the repository's own pages (changelog, contributing, security, licence) into the site at
build time (mkdocs-gen-files), their links to `docs/...` made relative to the site."""

from __future__ import annotations

import re
from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "CHANGELOG.md": "changelog.md",
    "CONTRIBUTING.md": "contributing.md",
    "SECURITY.md": "security.md",
}


def site_links(text: str) -> str:
    """`](docs/models.md)` -> `](models.md)`, `](CHANGELOG.md)` -> `](changelog.md)`."""
    text = re.sub(r"\]\(docs/", "](", text)
    for source, page in PAGES.items():
        text = text.replace(f"]({source}", f"]({page}")
    return text.replace("](LICENSE)", "](license.md)")


for source, page in PAGES.items():
    with mkdocs_gen_files.open(page, "w") as out:
        out.write(site_links((ROOT / source).read_text()))
    mkdocs_gen_files.set_edit_path(page, f"../{source}")

with mkdocs_gen_files.open("license.md", "w") as out:
    out.write(f"# Licence\n\n```text\n{(ROOT / 'LICENSE').read_text()}```\n")
