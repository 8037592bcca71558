-- The same per reading set, award year and measure, in 万元.
select * from dashboard.reading_budget
