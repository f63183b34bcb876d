"""Write sales_funnel_pro/README.rst from the fragments in sales_funnel_pro/readme/.

The fragments are the source (DESCRIPTION.md, CONFIGURE.md, USAGE.md, in the OCA
layout); README.rst is what the Apps page and the repository show. The Markdown used
by the fragments is small: paragraphs, ``-`` and ``1.`` lists (with indented
continuation lines), ``**bold**``, ``*italic*``, ```code``` and pipe tables.

    python3 tools/gen_readme.py          rewrite README.rst
    python3 tools/gen_readme.py --check  exit 1 when README.rst is not up to date
"""

import argparse
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDON = os.path.join(ROOT, "sales_funnel_pro")
README = os.path.join(ADDON, "README.rst")
REPOSITORY = "https://github.com/sales-funnel-pro/sales_funnel_pro"

HEADER = """\
================
Sales Funnel Pro
================

|badge1|

.. |badge1| image:: https://img.shields.io/badge/licence-LGPL--3-blue.png
    :target: https://www.gnu.org/licenses/lgpl-3.0-standalone.html
    :alt: License: LGPL-3

"""

AFTER_DESCRIPTION = """\
.. image:: static/description/screenshot_pipeline.png
    :alt: The pipeline kanban with the funnel badges on each card

**Table of contents**

.. contents::
   :local:

"""

FOOTER = f"""\
Bug Tracker
===========

Bugs are tracked on `GitHub Issues <{REPOSITORY}/issues>`_.
Please check there whether your issue has already been reported, and if not, describe
how to reproduce it.

Credits
=======

Authors
-------

* Sales Funnel Pro
"""


def inline(text):
    """Markdown inline code to reStructuredText (bold and italic are the same)."""
    return re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)


def table(lines):
    """A pipe table to a list-table."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in lines
        if not re.fullmatch(r"\|?[\s|:-]+\|?", line.strip())
    ]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in rows:
        for index, cell in enumerate(row):
            bullet = "   * - " if index == 0 else "     - "
            out.append((bullet + inline(cell)).rstrip())
    return out


def convert(markdown):
    """The fragment's Markdown as reStructuredText."""
    out = []
    lines = markdown.rstrip("\n").split("\n")
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("|"):
            block = []
            while index < len(lines) and lines[index].startswith("|"):
                block.append(lines[index])
                index += 1
            out.extend(table(block))
            continue
        numbered = re.match(r"\d+\. (.*)", line)
        if numbered:
            out.append("#. " + inline(numbered.group(1)))
        else:
            out.append(inline(line))
        index += 1
    return "\n".join(out) + "\n"


def fragment(name):
    with open(os.path.join(ADDON, "readme", name), encoding="utf-8") as file:
        return convert(file.read())


def render():
    return (
        HEADER
        + fragment("DESCRIPTION.md")
        + "\n"
        + AFTER_DESCRIPTION
        + "Configuration\n=============\n\n"
        + fragment("CONFIGURE.md")
        + "\nUsage\n=====\n\n"
        + fragment("USAGE.md")
        + "\n"
        + FOOTER
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="only check that README.rst is current"
    )
    args = parser.parse_args()
    text = render()
    if args.check:
        with open(README, encoding="utf-8") as file:
            if file.read() != text:
                sys.exit(
                    f"{os.path.relpath(README, ROOT)} is out of date: run "
                    "python3 tools/gen_readme.py"
                )
        return
    with open(README, "w", encoding="utf-8") as file:
        file.write(text)


if __name__ == "__main__":
    main()
