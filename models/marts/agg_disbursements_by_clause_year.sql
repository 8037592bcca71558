-- Net money paid per policy clause and calendar year of payment.
{{ rollup_disbursements([
    ('clause_code', "coalesce(clause_code, 'UNKNOWN')"),
    ('measure_code', "coalesce(measure_code, 'UNKNOWN')"),
]) }}
