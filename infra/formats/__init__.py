"""Date input formats for both languages (FORMAT_MODULE_PATH): a date is read day first or as ISO, never month first.

Django's Vietnamese locale names no input formats, so a typed date fell back to the US ones: "03/04/2025"
was read as 4 March where the person, the import (infra.interchange.imports.readers) and every page
showing dates mean 3 April, and "03/04/25" guessed the century. Both languages read the same way here:
the English pages write dates as the Vietnamese ones do (dd/mm/yyyy).
"""
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                          "%Y-%m-%dT%H:%M"]
