-- Every point where the draft's wording allows more than one reading: default and alternatives, in Chinese
-- (seed policy_readings with policy_reading_labels; written into the dashboards' copy by `subsidy dashboards build`).
select * from dashboard.policy_readings
