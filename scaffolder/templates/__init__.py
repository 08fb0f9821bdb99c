"""The copier templates: rendering engines and the files netpol manages."""
