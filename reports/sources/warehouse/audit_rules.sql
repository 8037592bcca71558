-- The latest audit run's rule table (written into the dashboards' copy by `subsidy dashboards build`).
select * from dashboard.audit_rules
