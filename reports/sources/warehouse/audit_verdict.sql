-- The latest audit run (written into the dashboards' copy by `subsidy dashboards build`).
select * from dashboard.audit_verdict
