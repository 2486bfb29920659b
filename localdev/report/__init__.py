"""``.local/report.html``: one self-contained page of charts from a demo run's exports.

``make run`` (:mod:`localdev.demo`) calls :func:`write_report` once it has exported the
emulator's tables; ``python -m localdev.report`` rebuilds the page from an existing export.
Every chart reads the table that holds its numbers (the models in ``analytics.*``, never a
second implementation of their rules); a table whose export is missing or empty gives a
labelled "no rows" panel, never an error. Date axes are real dates, so days run in order.

Modules:

- :mod:`~localdev.report.data`: the exported tables (``Exports``) and one reader per panel,
  table rows -> plain records;
- :mod:`~localdev.report.plotting`: plotly building blocks (colours, date axes, period bars,
  the empty-panel note);
- :mod:`~localdev.report.charts`: one chart per panel (plain records -> figure, title,
  caption) and ``PANELS``, the readers paired with their charts in page order;
- :mod:`~localdev.report.page`: the HTML page, ``render`` and ``write_report``;
- :mod:`~localdev.report.__main__`: the command line.
"""

from localdev.report.page import render, write_report

__all__ = ["render", "write_report"]
