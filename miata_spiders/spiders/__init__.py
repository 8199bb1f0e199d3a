"""One module per forum: ``<site>.py`` holds ``class <Site>Spider`` with ``name = "<site>"``."""
