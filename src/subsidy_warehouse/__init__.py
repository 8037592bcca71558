"""Subsidy warehouse for the Shangcheng AI pilot-zone measures."""

import warnings

# pyspark (the `spark` extra) warns about the installed pandas when it is imported, by our Spark session or by
# Great Expectations' Spark support in any `subsidy audit`; nothing here converts through pandas
warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
