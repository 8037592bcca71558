{#- Reruns one audit rule (a model in models/audit/rules): every row it returns is a finding. dbt only warns;
    whether a rule is fatal is the catalogue's decision (seed audit_rules), applied by `subsidy audit`.
    Tagged audit_rule so `subsidy build` leaves the rerun to the audit. -#}
{% test audit_rule(model) %}
{{ config(severity='warn', tags=['audit_rule']) }}
select * from {{ model }}
{% endtest %}
