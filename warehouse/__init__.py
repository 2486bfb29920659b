"""The scheduled models: their SQL (``sql``), rules (``rules``), the once-only rule (``once``), run
order (``graph``), the runner (``runner``) and the generated files, the scheduled-query script among
them (``render``, ``docs``)."""
