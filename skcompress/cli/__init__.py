"""The command line: ``skcompress demo`` and ``skcompress sweep``."""
