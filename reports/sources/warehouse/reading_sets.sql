-- The budget (within-cap total of every award) under each prepared reading set against the default
-- (`subsidy simulate` of each set, run by `subsidy dashboards build`), in 万元.
select * from dashboard.reading_sets
