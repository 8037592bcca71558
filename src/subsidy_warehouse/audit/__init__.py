"""The auditor's rerun of every quality check on an existing warehouse (`subsidy audit`)."""
