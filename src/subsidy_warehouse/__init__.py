"""Subsidy warehouse for the Shangcheng AI pilot-zone measures."""
