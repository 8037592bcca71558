{#- The rule models (one SQL file per rule in models/audit/rules), unioned into audit.exceptions and
    rerun by `subsidy audit`. -#}
{% macro audit_rule_models() %}
    {{ return([
        'rule_over_cap', 'rule_overpaid', 'rule_paid_without_approval', 'rule_unknown_reference',
        'rule_invalid_id', 'rule_duplicate_record', 'rule_date_order', 'rule_outside_policy_period',
        'rule_bureau_mismatch', 'rule_non_monetary_award', 'rule_beneficiary_type_mismatch',
        'rule_missing_basis', 'rule_rejected_row',
    ]) }}
{% endmacro %}
